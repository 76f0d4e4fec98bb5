/// A refused OData request: the HTTP status and an OData error body (`{"error":{"code":…,"message":…}}`).
public struct ODataError: Error, Hashable, Sendable, CustomStringConvertible {
    /// 400, 403 or 404.
    public var status: Int
    /// A short machine-readable code (`BadFilter`, `UnsupportedOption`, `NotFound`, …).
    public var code: String
    /// What was wrong and where (the query option and the character position in it).
    public var message: String
    /// The query option or resource the error is about, if any.
    public var target: String?

    /// Assembles an error.
    public init(status: Int, code: String, message: String, target: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.target = target
    }

    /// A 400 about `option`.
    static func badRequest(_ code: String, _ message: String, option: String? = nil) -> ODataError {
        ODataError(status: 400, code: code, message: message, target: option)
    }

    /// The status, code and message.
    public var description: String { "\(status) \(code): \(message)" }

    /// The OData JSON error body.
    var body: String {
        var text = "{\"error\":{\"code\":" + JSONWriter.string(code) + ",\"message\":" + JSONWriter.string(message)
        if let target { text += ",\"target\":" + JSONWriter.string(target) }
        return text + "}}"
    }
}
