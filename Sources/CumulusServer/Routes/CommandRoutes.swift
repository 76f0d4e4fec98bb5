import CumulusCommands
import CumulusDomain
import CumulusLMDB
import CumulusLog
import Foundation
import Hummingbird

extension CumulusServer {
    /// `POST /v1/commands` and `POST /v1/commands/batch`.
    func addCommandRoutes(to router: Router<ServerContext>) {
        router.post("v1/commands") { request, _ in
            let caller = try await authenticate(request)
            let body = try Self.text(of: await collect(request, types: ["application/json"]))
            try Self.checkJSON(body, line: nil)
            let result = await decide(body, line: 1, caller: caller)
            await publish(result)
            return result.response()
        }
        router.post("v1/commands/batch") { request, _ in
            let caller = try await authenticate(request)
            let body = try await collect(
                request, types: ["application/x-ndjson", "application/jsonl", "application/json-lines"])
            // Anything else is refused: a misspelt `atomic=yes` would otherwise append line by line what the caller
            // wanted all or nothing of.
            let atomic: Bool
            switch request.uri.queryParameters.get("atomic").map({ String($0) }) {
            case nil, "false", "0": atomic = false
            case "true", "1": atomic = true
            case .some: throw Problem.badParameter("atomic", "atomic must be true, false, 1 or 0")
            }
            return try await batch(body, caller: caller, atomic: atomic)
        }
    }

    /// The body as text; bytes that are not UTF-8 are refused (400 naming the line and column of the first), never
    /// decoded with U+FFFD, which would store a name the client did not send.
    static func text(of bytes: [UInt8]) throws(Problem) -> String {
        guard let offset = JSONLines.firstInvalidUTF8(bytes) else { return String(decoding: bytes, as: UTF8.self) }
        let before = bytes[..<offset]
        let line = before.count { $0 == 0x0A } + 1
        let column = offset - (before.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0) + 1
        throw Problem.malformedJSON(
            line: line, column: column,
            detail: "the body is not UTF-8: the byte 0x\(String(bytes[offset], radix: 16, uppercase: true)) at line "
                + "\(line), column \(column) does not begin or continue a UTF-8 character")
    }

    /// Collects the body, refusing a wrong content type (415) or a body over the limit (413).
    func collect(_ request: Request, types: [String]) async throws(Problem) -> [UInt8] {
        let contentType = (request.headers[.contentType] ?? "").lowercased()
        guard types.contains(where: { contentType.hasPrefix($0) }) else {
            throw Problem.unsupportedMediaType(expected: types[0])
        }
        // JSON is UTF-8 (RFC 8259): a body declared in another charset would be read as something it is not.
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.first == "charset", let charset = pair.last?.trimmingCharacters(in: ["\""]),
                charset != "utf-8" && charset != "utf8"
            {
                throw Problem(
                    .unsupportedMediaType, kind: "unsupported-media-type", title: "Unsupported media type",
                    detail: "the body must be UTF-8 (\(types[0]); charset=utf-8), not charset=\(charset)")
            }
        }
        let limit = configuration.limits.maximumBodyBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw Problem.tooLarge("the body is \(length) bytes; the limit is \(limit)")
        }
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch {
            throw Problem.tooLarge("the body is larger than the limit of \(limit) bytes")
        }
    }

    /// Refuses text that is not one JSON object (400 with the line and column where it stops being JSON).
    /// - Parameter line: the line of a batch the text is (its own line numbers are then all 1).
    static func checkJSON(_ text: String, line: Int?) throws(Problem) {
        if let failure = JSONSyntax.firstError(in: text) {
            throw Problem.malformedJSON(
                line: line ?? failure.line, column: failure.column,
                detail: "the body is not valid JSON: \(failure.reason) (line \(line ?? failure.line), column "
                    + "\(failure.column))")
        }
        guard text.utf8.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: "{") else {
            throw Problem.malformedJSON(line: line ?? 1, column: 1, detail: "a command must be a JSON object")
        }
    }

    /// Decides one command line as the caller: each of the caller's actors in turn until one is allowed
    /// (the union of their rights); nothing is appended for a refused command.
    func decide(_ text: String, line: Int, caller: Caller) async -> CommandResult {
        guard let first = caller.actors.first else {
            return .problem(
                Problem.forbidden(
                    action: "any", rule: "guests have no access",
                    detail: "permission denied: the token maps to no Cumulus role (guest)"), line: line)
        }
        var request: CommandRequest
        do {
            request = try CommandImport.parse(line: text, number: line, actor: first)
        } catch {
            return .problem(Self.problem(for: error), line: line)
        }
        var denial: PermissionDenied?
        for actor in caller.actors {
            request.actor = actor
            do {
                let outcome = try await handler.handle(request)
                if case .alreadyStored(let position) = outcome,
                    let conflict = await conflicting(request, at: position, caller: caller)
                {
                    return .problem(conflict, line: line)
                }
                return .outcome(outcome, line: line)
            } catch .refused(.permissionDenied(let denied)) {
                if denial == nil { denial = denied }
            } catch {
                return .problem(Self.problem(for: error), line: line)
            }
        }
        return .problem(Self.forbidden(denial, caller: caller), line: line)
    }

    /// A stored event with the request's id but other content (another instant, or an actor the caller does not
    /// hold): 409.
    private func conflicting(_ request: CommandRequest, at position: GlobalPosition, caller: Caller) async -> Problem? {
        guard let id = request.eventID, let stored = try? await store.event(id: EventID(id)) else { return nil }
        let sameActor = caller.actors.contains { $0.description == stored.actor }
        guard stored.occurredAt.microsecondsSinceEpoch != request.occurredAt || !sameActor else { return nil }
        return Problem(
            .conflict, kind: "event-id-conflict", title: "Event id already used",
            detail: "event id \(id) is stored at position \(stored.position) with other content; use a new eventId",
            field: "eventId")
    }

    static func forbidden(_ denial: PermissionDenied?, caller: Caller) -> Problem {
        guard let denial else {
            return Problem.forbidden(action: "any", rule: "guests have no access", detail: "permission denied")
        }
        return Problem.forbidden(
            action: denial.action.rawValue, rule: denial.rule,
            detail: "permission denied: \(caller.actorList) may not \(denial.action) (rule: \(denial.rule))")
    }

    /// Records metrics and makes the projections include an accepted command before answering.
    func publish(_ result: CommandResult) async {
        switch result {
        case .outcome(let outcome, _):
            switch outcome {
            case .appended(let results):
                metrics.command(outcome: "accepted")
                metrics.appended(outcome.eventCount)
                if let last = results.map(\.lastPosition).max() { try? await readSide.catchUp(to: last) }
            case .alreadyStored: metrics.command(outcome: "duplicate")
            case .unchanged: metrics.command(outcome: "unchanged")
            }
        case .problem(let problem, _):
            metrics.command(outcome: "refused", reason: problem.kind)
        }
    }

    /// `POST /v1/commands/batch`: JSON Lines decided in order and group-committed; per-line results.
    private func batch(_ body: [UInt8], caller: Caller, atomic: Bool) async throws(Problem) -> Response {
        // Split at each LF byte (a CRLF line keeps its CR, trimmed below: as a Swift string, "\r\n" is one character
        // and is not split at "\n"); a line that is not UTF-8 is refused on its own, as `cumulus import` does.
        var lines: [(number: Int, text: String)] = []
        var notUTF8: [Int: JSONLines.InvalidUTF8] = [:]
        for line in JSONLines.split(body) {
            switch line.text {
            case .success(let text):
                let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
                if !trimmed.isEmpty { lines.append((line.number, trimmed)) }
            case .failure(let invalid):
                notUTF8[lines.count] = invalid
                lines.append((line.number, ""))
            }
        }
        let limits = configuration.limits
        guard lines.count <= limits.maximumBatchLines else {
            throw Problem.tooLarge("the batch has \(lines.count) lines; the limit is \(limits.maximumBatchLines)")
        }
        guard !lines.isEmpty else {
            throw Problem(
                .unprocessableContent, kind: "empty-batch", title: "Empty batch", detail: "the batch holds no lines")
        }
        guard let primary = caller.actors.first else {
            throw Problem.forbidden(
                action: "any", rule: "guests have no access",
                detail: "permission denied: the token maps to no Cumulus role (guest)")
        }
        var results = [CommandResult?](repeating: nil, count: lines.count)
        var requests: [CommandRequest] = []
        var indexes: [Int] = []
        for (index, line) in lines.enumerated() {
            if let invalid = notUTF8[index] {
                results[index] = .problem(
                    Problem.malformedJSON(
                        line: line.number, column: invalid.byteOffset + 1,
                        detail:
                            "line \(line.number) is not UTF-8: the byte at column \(invalid.byteOffset + 1) does not "
                            + "begin or continue a UTF-8 character"), line: line.number)
                continue
            }
            if line.text.utf8.count > limits.maximumLineBytes {
                results[index] = .problem(
                    Problem.tooLarge(
                        "line \(line.number) is \(line.text.utf8.count) bytes; the limit is "
                            + "\(limits.maximumLineBytes)"), line: line.number)
                continue
            }
            do throws(Problem) {
                try Self.checkJSON(line.text, line: line.number)
                requests.append(try Self.parse(line.text, number: line.number, actor: primary))
                indexes.append(index)
            } catch {
                results[index] = .problem(error, line: line.number)
            }
        }
        if atomic {
            return await atomicBatch(
                lines: lines, results: results, requests: requests, indexes: indexes, caller: caller)
        }
        let decided: [CommandHandler.LineResult]
        do {
            decided = try await handler.handle(batch: requests)
        } catch {
            throw Self.problem(for: error)
        }
        for (slot, outcome) in zip(indexes, decided) {
            let number = lines[slot].number
            switch outcome {
            case .success(let outcome): results[slot] = .outcome(outcome, line: number)
            case .failure(.refused(.permissionDenied(let denial))) where caller.actors.count > 1:
                // Another of the caller's actors may hold the right: decide this line again on its own.
                var result = await decide(lines[slot].text, line: number, caller: caller)
                if case .problem(let problem, _) = result, problem.status == .forbidden {
                    result = .problem(Self.forbidden(denial, caller: caller), line: number)
                }
                results[slot] = result
            case .failure(.refused(.permissionDenied(let denial))):
                results[slot] = .problem(Self.forbidden(denial, caller: caller), line: number)
            case .failure(let error): results[slot] = .problem(Self.problem(for: error), line: number)
            }
        }
        var text = ""
        for result in results {
            guard let result else { continue }
            await publish(result)
            text += result.json + "\n"
        }
        return Self.json(.ok, text, contentType: "application/x-ndjson")
    }

    /// `?atomic=true`: every line under one of the caller's actors in one append, or nothing (422 with the
    /// per-line results in `results`).
    private func atomicBatch(
        lines: [(number: Int, text: String)], results: [CommandResult?], requests: [CommandRequest], indexes: [Int],
        caller: Caller
    ) async -> Response {
        var results = results
        if !results.contains(where: { $0 != nil }) {
            actors: for actor in caller.actors {
                let attempt = requests.map { request in
                    var request = request
                    request.actor = actor
                    return request
                }
                let decided: (lines: [CommandHandler.LineResult], appended: [AppendResult])
                do {
                    decided = try await handler.handle(atomically: attempt)
                } catch {
                    for (slot, index) in indexes.enumerated() {
                        results[index] = .problem(Self.problem(for: error), line: lines[slot].number)
                    }
                    break
                }
                var onlyDenied = true
                var refused = false
                for (slot, outcome) in zip(indexes, decided.lines) {
                    let number = lines[slot].number
                    switch outcome {
                    case .success: results[slot] = nil
                    case .failure(.refused(.permissionDenied(let denial))):
                        refused = true
                        results[slot] = .problem(Self.forbidden(denial, caller: caller), line: number)
                    case .failure(let error):
                        refused = true
                        onlyDenied = false
                        results[slot] = .problem(Self.problem(for: error), line: number)
                    }
                }
                if !refused {
                    let events = decided.appended.reduce(0) {
                        $0 + Int($1.lastPosition.rawValue - $1.firstPosition.rawValue + 1)
                    }
                    metrics.appended(events)
                    metrics.command(outcome: "accepted")
                    if let last = decided.appended.map(\.lastPosition).max() { try? await readSide.catchUp(to: last) }
                    return Self.json(
                        .created,
                        "{\"atomic\":true,\"accepted\":\(lines.count),\"events\":["
                            + decided.appended.map(CommandResult.appendJSON).joined(separator: ",") + "]}\n")
                }
                if onlyDenied { continue actors }
                break
            }
        }
        var text = ""
        for result in results {
            guard let result else { continue }
            text += result.json + "\n"
        }
        metrics.command(outcome: "refused", reason: "batch-refused")
        var problem = Problem(
            .unprocessableContent, kind: "batch-refused", title: "Batch refused",
            detail: "?atomic=true and at least one line was refused: nothing was appended")
        problem.extra["results"] = text
        return problem.response()
    }

    static func parse(_ text: String, number: Int, actor: Actor) throws(Problem) -> CommandRequest {
        do {
            return try CommandImport.parse(line: text, number: number, actor: actor)
        } catch {
            throw problem(for: error)
        }
    }

    /// A refused import line: 422 naming the field (the first name in backticks of the reason).
    static func problem(for refusal: ImportLineRefusal) -> Problem {
        let field = refusal.reason.firstMatch(of: /`([A-Za-z0-9_.\[\]]+)`/).map { String($0.1) }
        let kind = refusal.reason.hasPrefix("malformed JSON") ? "malformed-json" : "invalid-command"
        return Problem(
            kind == "malformed-json" ? .badRequest : .unprocessableContent, kind: kind,
            title: kind == "malformed-json" ? "Malformed JSON" : "Invalid command", detail: refusal.reason,
            field: kind == "malformed-json" ? nil : field, line: refusal.line)
    }

    /// A command the handler refused or failed.
    static func problem(for error: CommandError) -> Problem {
        switch error {
        case .refused(let domain):
            switch domain {
            case .permissionDenied(let denial):
                return Problem.forbidden(
                    action: denial.action.rawValue, rule: denial.rule, detail: denial.description)
            case .validation(let failure):
                return Problem(
                    .unprocessableContent, kind: "validation", title: "Invalid field", detail: failure.description,
                    field: failure.field)
            case .licenceExhausted:
                return Problem(
                    .unprocessableContent, kind: "licence-exhausted", title: "Licence exhausted",
                    detail: domain.description, field: "kind")
            case .deletionNotConfirmed:
                return Problem(
                    .unprocessableContent, kind: "deletion-not-confirmed", title: "Deletion not confirmed",
                    detail: domain.description, field: "confirmation")
            case .alreadyExists:
                return Problem(.conflict, kind: "already-exists", title: "Already exists", detail: domain.description)
            case .conflict(let conflict):
                return Problem(
                    .conflict, kind: "uniqueness-conflict", title: "Value in use", detail: domain.description,
                    field: conflict.field)
            case .notFound:
                return Problem(
                    .unprocessableContent, kind: "unknown-entity", title: "Unknown entity", detail: domain.description)
            case .tenantNotOperational, .notLive, .ouNotEmpty, .invalidTreeChange:
                return Problem(
                    .unprocessableContent, kind: "rule", title: "Refused by a rule", detail: domain.description)
            }
        case .streamConflict, .tooMuchContention:
            return Problem(.conflict, kind: "lost-race", title: "Lost a race", detail: error.description)
        case .storage(.eventIDConflict), .storage(.partiallyStored):
            return Problem(
                .conflict, kind: "event-id-conflict", title: "Event id already used", detail: error.description,
                field: "eventId")
        case .storage, .undecodableEvent:
            return Problem(
                .serviceUnavailable, kind: "storage", title: "Storage unavailable",
                detail: "the log could not take the command; nothing was appended")
        }
    }
}

/// The result of one command: its outcome or its problem, with its line.
enum CommandResult: Sendable {
    case outcome(CommandOutcome, line: Int)
    case problem(Problem, line: Int)

    var status: HTTPResponse.Status {
        switch self {
        case .outcome(.appended, _): .created
        case .outcome: .ok
        case .problem(let problem, _): problem.status
        }
    }

    /// One JSON object: `{"line":1,"status":201,"outcome":"appended","events":[…]}` or the problem's members.
    var json: String {
        switch self {
        case .outcome(let outcome, let line):
            var text = "{\"line\":\(line),\"status\":\(status.code),"
            switch outcome {
            case .appended(let results):
                text +=
                    "\"outcome\":\"appended\",\"events\":[" + results.map(Self.appendJSON).joined(separator: ",") + "]"
            case .alreadyStored(let position):
                text += "\"outcome\":\"alreadyStored\",\"position\":\(position.rawValue)"
            case .unchanged:
                text += "\"outcome\":\"unchanged\""
            }
            return text + "}"
        case .problem(let problem, let line):
            var problem = problem
            if problem.line == nil { problem.line = line }
            return problem.json
        }
    }

    static func appendJSON(_ result: AppendResult) -> String {
        "{\"stream\":" + jsonQuoted(result.stream.rawValue) + ",\"firstPosition\":\(result.firstPosition.rawValue)"
            + ",\"lastPosition\":\(result.lastPosition.rawValue),\"streamVersion\":\(result.streamVersion.rawValue)}"
    }

    func response() -> Response {
        switch self {
        case .outcome: CumulusServer.json(status, json + "\n")
        case .problem(let problem, _): problem.response()
        }
    }
}
