import HTTPTypes
import Hummingbird
import NIOCore

extension CumulusServer {
    /// `GET /`, `/dashboard.js`, `/dashboard.css`: the supervisor dashboard (Dashboard/, embedded at build time by
    /// `Tools/scripts/generate_dashboard_files.py`). The files need no sign-in; the data they load does (the
    /// token pasted or taken from `#token=…`).
    func addDashboardRoutes(to router: Router<ServerContext>) {
        let files: [(path: String, type: String, text: String)] = [
            ("/", "text/html; charset=utf-8", DashboardFiles.indexHTML),
            ("/dashboard.js", "text/javascript; charset=utf-8", DashboardFiles.javaScript),
            ("/dashboard.css", "text/css; charset=utf-8", DashboardFiles.styleSheet),
        ]
        for file in files {
            let body = ByteBuffer(string: file.text)
            router.get(RouterPath(file.path)) { _, _ in
                var headers = HTTPFields()
                headers[.contentType] = file.type
                headers[.cacheControl] = "no-cache"
                if let name = HTTPField.Name("X-Content-Type-Options") { headers[name] = "nosniff" }
                headers[.contentSecurityPolicy] =
                    "default-src 'self'; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; "
                    + "frame-ancestors 'none'"
                return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: body))
            }
        }
    }

    /// The reporting routes: the OData feed, the dashboard and the agents' live states.
    func addReportingRoutes(to router: Router<ServerContext>) {
        addODataRoutes(to: router)
        addDashboardRoutes(to: router)
        addStateStreamRoutes(to: router)
    }
}
