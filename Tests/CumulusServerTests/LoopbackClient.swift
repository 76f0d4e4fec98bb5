import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A minimal HTTP/1.1 client over a loopback socket (one request per connection), so the tests talk to a
/// real listening server without another HTTP stack. Blocking socket calls run on a Dispatch queue, never
/// on the cooperative pool.
struct LoopbackClient: Sendable {
    let port: Int

    struct Response: Sendable {
        var status: Int
        var headers: [String: String]
        var body: String

        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:]
        }

        var lines: [[String: Any]] {
            body.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }
    }

    func get(_ path: String, token: String? = nil, headers: [String: String] = [:]) async -> Response {
        await send("GET", path, token: token, headers: headers, body: nil)
    }

    func post(
        _ path: String, token: String?, body: String, contentType: String = "application/json",
        headers: [String: String] = [:]
    ) async -> Response {
        var headers = headers
        headers["Content-Type"] = contentType
        return await send("POST", path, token: token, headers: headers, body: body)
    }

    /// POSTs a body given as bytes (which may not be UTF-8).
    func post(_ path: String, token: String?, bytes: [UInt8], contentType: String) async -> Response {
        var request = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if let token { request += "Authorization: Bearer \(token)\r\n" }
        request += "Content-Type: \(contentType)\r\nContent-Length: \(bytes.count)\r\n\r\n"
        return Self.parse(await Self.exchange(port: port, Array(request.utf8) + bytes))
    }

    func send(
        _ method: String, _ path: String, token: String?, headers: [String: String], body: String?
    ) async
        -> Response
    {
        var request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if let token { request += "Authorization: Bearer \(token)\r\n" }
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        if let body { request += "Content-Length: \(body.utf8.count)\r\n" }
        request += "\r\n" + (body ?? "")
        let raw = await Self.exchange(port: port, Array(request.utf8))
        return Self.parse(raw)
    }

    /// Sends `bytes`, reads until the server closes; returns what was read.
    static func exchange(port: Int, _ bytes: [UInt8], readTimeout: Int = 30) async -> [UInt8] {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: blockingExchange(port: port, bytes, readTimeout: readTimeout))
            }
        }
    }

    /// Opens a connection, sends `bytes` and reads until EOF; returns what was read and the seconds it took.
    static func blockingExchange(
        port: Int, _ bytes: [UInt8], readTimeout: Int, stopWhen marker: [UInt8]? = nil
    )
        -> [UInt8]
    {
        guard let descriptor = connected(port: port, readTimeout: timeval(tv_sec: readTimeout, tv_usec: 0)) else {
            return []
        }
        defer { close(descriptor) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, 0) }
            if written <= 0 { break }
            offset += written
        }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            received.append(contentsOf: chunk[0..<count])
            if let marker, received.count >= marker.count,
                received.indices.dropLast(marker.count - 1).contains(where: {
                    received[$0..<$0 + marker.count].elementsEqual(marker)
                })
            {
                break
            }
        }
        return received
    }

    /// Sends a GET and reads the (streaming) answer until its text contains `marker`, the server closes, or
    /// `timeout` seconds pass; returns what was read. For Server-Sent Events, which never end by themselves.
    func stream(
        _ path: String, token: String, headers: [String: String] = [:], until marker: String, timeout: Int = 30
    )
        async -> String
    {
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAuthorization: Bearer \(token)\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        let bytes = Array(request.utf8)
        let port = port
        let received = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    returning: Self.blockingExchange(
                        port: port, bytes, readTimeout: timeout, stopWhen: Array(marker.utf8)))
            }
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// Sends `prefix` at once, then `bytes` one at a time, `every` apart, until the server closes the connection;
    /// returns how long after the first byte it closed, or nil when it was still open after `giveUpAfter`.
    static func trickle(
        port: Int, prefix: [UInt8], _ bytes: [UInt8], every: Duration, giveUpAfter: Duration
    ) async
        -> Duration?
    {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    returning: blockingTrickle(
                        port: port, prefix: prefix, bytes, every: every, giveUpAfter: giveUpAfter))
            }
        }
    }

    static func blockingTrickle(
        port: Int, prefix: [UInt8], _ bytes: [UInt8], every: Duration, giveUpAfter: Duration
    ) -> Duration? {
        let pause = every.components
        let timeout = timeval(tv_sec: Int(pause.seconds), tv_usec: Int(pause.attoseconds / 1_000_000_000_000))
        guard let descriptor = connected(port: port, readTimeout: timeout) else { return nil }
        defer { close(descriptor) }
        let start = ContinuousClock.now
        if !prefix.isEmpty
            && prefix.withUnsafeBytes({ Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) })
                != prefix.count
        {
            return nil
        }
        var chunk = [UInt8](repeating: 0, count: 4096)
        var index = 0
        while ContinuousClock.now - start < giveUpAfter {
            if index < bytes.count {
                var byte = bytes[index]
                // MSG_NOSIGNAL: a closed peer fails the send instead of raising SIGPIPE.
                if Glibc.send(descriptor, &byte, 1, Int32(MSG_NOSIGNAL)) <= 0 { return ContinuousClock.now - start }
                index += 1
            }
            // Waits up to `every` for the server to close (0) or answer (anything else ends the trickle too).
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count == 0 { return ContinuousClock.now - start }
            if count > 0 { return ContinuousClock.now - start }
        }
        return nil
    }

    /// A socket connected to 127.0.0.1:`port` whose reads give up after `readTimeout`; nil when it cannot be
    /// opened or connected. The caller closes it.
    private static func connected(port: Int, readTimeout: timeval) -> Int32? {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        var timeout = readTimeout
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard status == 0 else {
            close(descriptor)
            return nil
        }
        return descriptor
    }

    static func parse(_ raw: [UInt8]) -> Response {
        let text = String(decoding: raw, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { return Response(status: 0, headers: [:], body: text) }
        let head = text[..<split.lowerBound].split(separator: "\r\n")
        let status = head.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        var body = String(text[split.upperBound...])
        if headers["transfer-encoding"] == "chunked" { body = dechunk(body) }
        return Response(status: status, headers: headers, body: body)
    }

    static func dechunk(_ text: String) -> String {
        var bytes = Substring(text)
        var body = ""
        while let end = bytes.range(of: "\r\n") {
            guard let size = Int(bytes[..<end.lowerBound], radix: 16), size > 0 else { break }
            let start = end.upperBound
            let utf8 = bytes.utf8
            guard let stop = utf8.index(start, offsetBy: size, limitedBy: utf8.endIndex) else { break }
            body += String(bytes[start..<stop])
            // The CRLF after the data: by bytes ("\r\n" is one Character, so dropFirst(2) on the string would also
            // drop the first digit of the next chunk's size).
            bytes = Substring(bytes[stop...].utf8.dropFirst(2))
        }
        return body
    }
}
