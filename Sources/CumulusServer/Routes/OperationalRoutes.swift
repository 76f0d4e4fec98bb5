import CumulusLMDB
import CumulusLog
import Foundation
import Hummingbird

extension CumulusServer {
    /// `/health`, `/ready`, `/metrics`, `/openapi.json`: no sign-in.
    func addOperationalRoutes(to router: Router<ServerContext>) {
        router.get("health") { _, _ in
            Self.json(.ok, "{\"status\":\"up\"}")
        }
        router.get("ready") { _, _ in
            let end = (try? await store.lastPosition()) ?? .start
            let position = await readSide.position
            let ready = position >= end
            return Self.json(
                ready ? .ok : .serviceUnavailable,
                "{\"ready\":\(ready),\"position\":\(position.rawValue),\"logEnd\":\(end.rawValue)}")
        }
        router.get("metrics") { _, _ in
            await recordLag()
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(
                status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.exposition())))
        }
        router.get("openapi.json") { _, _ in
            guard let text = Self.openAPIDocument else {
                throw Problem(
                    .internalServerError, kind: "internal", title: "Internal error",
                    detail: "the OpenAPI document is missing from the installation")
            }
            return Self.json(.ok, text)
        }
    }

    /// The OpenAPI 3.1 document of the API (`Sources/CumulusServer/openapi.json`).
    ///
    /// Looked up beside the executable (where SwiftPM puts the target's resource bundle) rather than through
    /// `Bundle.module`, whose accessor stops the process when the bundle was not installed with the binary.
    public static let openAPIDocument: String? = {
        let url = Bundle.main.bundleURL.appendingPathComponent("Cumulus_CumulusServer.resources/openapi.json")
        return try? String(contentsOf: url, encoding: .utf8)
    }()

    /// A JSON response.
    static func json(
        _ status: HTTPResponse.Status, _ text: String, contentType: String = "application/json"
    )
        -> Response
    {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
