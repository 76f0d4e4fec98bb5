import CumulusLog
import Foundation
public import HTTPTypes
public import Hummingbird
import Logging

/// An RFC 9457 problem: every error the server answers is one, as `application/problem+json`.
///
/// `type` is a stable URI under `https://cumulus.dev/problems/` that clients may switch on; `detail` is
/// a sentence a person understands; `field` or `line`/`column` say where the problem is.
public struct Problem: Error, Sendable, HTTPResponseError {
    /// The HTTP status.
    public var status: HTTPResponse.Status
    /// The stable problem kind, the last segment of `type` (e.g. `permission-denied`).
    public var kind: String
    /// A short title of the kind.
    public var title: String
    /// What went wrong, for a person.
    public var detail: String
    /// The field the problem is about, when there is one.
    public var field: String?
    /// The line of a JSON Lines body, when the problem is about one.
    public var line: Int?
    /// The column, for malformed JSON.
    public var column: Int?
    /// Extra members (e.g. `action`, `rule`).
    public var extra: [String: String]
    /// Extra headers (e.g. `WWW-Authenticate`).
    public var headers: HTTPFields

    /// Creates a problem.
    public init(
        _ status: HTTPResponse.Status, kind: String, title: String, detail: String, field: String? = nil,
        line: Int? = nil, column: Int? = nil, extra: [String: String] = [:], headers: HTTPFields = [:]
    ) {
        self.status = status
        self.kind = kind
        self.title = title
        self.detail = detail
        self.field = field
        self.line = line
        self.column = column
        self.extra = extra
        self.headers = headers
    }

    /// The problem's `type` URI.
    public var type: String { "https://cumulus.dev/problems/\(kind)" }

    /// The problem as a JSON object (explicit keys).
    public var json: String {
        var members: [(String, String)] = [
            ("type", jsonQuoted(type)), ("title", jsonQuoted(title)), ("status", String(status.code)),
            ("detail", jsonQuoted(detail)),
        ]
        if let field { members.append(("field", jsonQuoted(field))) }
        if let line { members.append(("line", String(line))) }
        if let column { members.append(("column", String(column))) }
        for (key, value) in extra.sorted(by: { $0.key < $1.key }) { members.append((key, jsonQuoted(value))) }
        return "{" + members.map { "\(jsonQuoted($0.0)):\($0.1)" }.joined(separator: ",") + "}"
    }

    /// The problem as a response.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        response()
    }

    /// The problem as a response.
    public func response() -> Response {
        var fields = headers
        fields[.contentType] = "application/problem+json"
        return Response(
            status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: json + "\n")))
    }
}

extension Problem {
    /// 400: the body is not JSON.
    static func malformedJSON(line: Int?, column: Int?, detail: String) -> Problem {
        Problem(
            .badRequest, kind: "malformed-json", title: "Malformed JSON", detail: detail, line: line, column: column)
    }

    /// 400: a query parameter is wrong.
    static func badParameter(_ name: String, _ detail: String) -> Problem {
        Problem(.badRequest, kind: "bad-parameter", title: "Bad query parameter", detail: detail, field: name)
    }

    /// 404.
    static func notFound(_ detail: String) -> Problem {
        Problem(.notFound, kind: "not-found", title: "Not found", detail: detail)
    }

    /// 413.
    static func tooLarge(_ detail: String) -> Problem {
        Problem(.contentTooLarge, kind: "too-large", title: "Request too large", detail: detail)
    }

    /// 415.
    static func unsupportedMediaType(expected: String) -> Problem {
        Problem(
            .unsupportedMediaType, kind: "unsupported-media-type", title: "Unsupported media type",
            detail: "the body must be \(expected); send Content-Type: \(expected)")
    }

    /// 401 with the `WWW-Authenticate` challenge; `detail` never repeats the token.
    static func unauthorized(_ detail: String) -> Problem {
        var headers = HTTPFields()
        let reason = detail.replacingOccurrences(of: "\"", with: "'")
        headers[.wwwAuthenticate] = "Bearer realm=\"cumulus\", error=\"invalid_token\", error_description=\"\(reason)\""
        return Problem(.unauthorized, kind: "unauthorized", title: "Not signed in", detail: detail, headers: headers)
    }

    /// 403 naming the action and the rule.
    static func forbidden(action: String, rule: String, detail: String) -> Problem {
        Problem(
            .forbidden, kind: "permission-denied", title: "Permission denied", detail: detail,
            extra: ["action": action, "rule": rule])
    }
}

/// Turns every error a handler throws into a problem response, so nothing leaves as a bare 500.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    )
        async throws -> Response
    {
        do {
            // The feed answers bad query options in OData's own error format (`ODataService`).
            if !request.uri.path.hasPrefix("/odata"), let problem = QueryString.problem(request.uri.query ?? "") {
                return problem.response()
            }
            if let problem = QueryString.unknownParameter(path: request.uri.path, query: request.uri.query ?? "") {
                return problem.response()
            }
            return try await next(request, context)
        } catch let problem as Problem {
            return problem.response()
        } catch let error as HTTPError {
            switch error.status {
            case .notFound:
                return Problem.notFound("no route \(request.method) \(request.uri.path)").response()
            case .contentTooLarge:
                return Problem.tooLarge("the request body is larger than the server accepts").response()
            case .methodNotAllowed:
                return Problem(
                    .methodNotAllowed, kind: "method-not-allowed", title: "Method not allowed",
                    detail: "\(request.method) is not allowed on \(request.uri.path)"
                ).response()
            default:
                return Problem(
                    error.status, kind: "http-\(error.status.code)", title: error.status.reasonPhrase,
                    detail: error.body ?? error.status.reasonPhrase
                ).response()
            }
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(String(describing: type(of: error)))"])
            return Problem(
                .internalServerError, kind: "internal", title: "Internal error",
                detail: "the server failed to answer; the log names the cause"
            ).response()
        }
    }
}

/// `string` as a JSON string literal.
func jsonQuoted(_ string: String) -> String {
    var text = ""
    JSONText.appendQuoted(string, to: &text)
    return text
}
