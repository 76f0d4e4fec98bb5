import CumulusDemo
import CumulusDomain
import CumulusLog
import CumulusProjections
import Foundation

/// What `cumulus demo` tells a newcomer: the tenants, their licence counters, and who spent longest in
/// each user state and presence over the generated days (the window the "Next:" line charts) — then where to
/// look next.
struct DemoSummary {
    let set: ProjectionSet
    /// The demo's data directory, named in the "Next:" line so that the command reads the demo's log.
    let dataDirectory: String
    /// How many days of feed the demo generated from its week's start.
    let days: Int

    func print() {
        guard let current = set.projection(CurrentStateProjection.self),
            let counters = set.projection(LicenceCountersProjection.self),
            let times = set.projection(TimeInStateProjection.self),
            let report = set.projection(UserStateReportProjection.self)
        else { return }
        let tenants = current.tenants.values.sorted { $0.name < $1.name }
        Swift.print("Tenants")
        for tenant in tenants {
            let live = current.users(in: tenant.id).filter { $0.lifecycle == .live }.count
            Swift.print(
                "  \(tenant.name) (\(tenant.state), \(current.services(in: tenant.id).count) services, \(live) users, "
                    + "time in state \(times.isShown(for: tenant.id) ? "shown" : "off"), id \(tenant.id))")
            let interesting = counters.counters(for: tenant.id).filter { $0.contingent > 0 || $0.used > 0 }
            let line = interesting.map { counter in
                "\(counter.kind) \(counter.used)/\(counter.contingent)"
                    + (counter.available < 0 ? " (over by \(-counter.available))" : "")
            }
            Swift.print("    licences used/contingent: " + line.joined(separator: ", "))
        }
        Swift.print("  user-state report rows: \(report.rowCount)")
        let window = demoWindow()
        var longestState: [String: (String, String, Double)] = [:]
        var longestPresence: [String: (String, String, Double)] = [:]
        for tenant in tenants where times.isShown(for: tenant.id) {
            for summary in times.summaries(tenant: tenant.id, from: window.from, to: window.to) {
                // Off-shift states last all night and weekend: the interesting ones are those of the working day.
                for (state, seconds) in summary.secondsPerUserState
                where state != "LoggedOut" && seconds > (longestState[state]?.2 ?? 0) {
                    longestState[state] = (summary.userName, tenant.name, seconds)
                }
                for (state, seconds) in summary.secondsPerAvailability
                where state != "Offline" && seconds > (longestPresence[state]?.2 ?? 0) {
                    longestPresence[state] = (summary.userName, tenant.name, seconds)
                }
            }
        }
        Swift.print("Longest in each user state while logged in, \(window.from.iso8601) – \(window.to.iso8601)")
        for (state, holder) in longestState.sorted(by: { $0.key < $1.key }) {
            Swift.print(
                "  \(state.padding(toLength: 12, withPad: " ", startingAt: 0)) \(hours(holder.2)) \(holder.0) (\(holder.1))"
            )
        }
        Swift.print("Longest in each presence while online")
        for (state, holder) in longestPresence.sorted(by: { $0.key < $1.key }) {
            Swift.print(
                "  \(state.padding(toLength: 16, withPad: " ", startingAt: 0)) \(hours(holder.2)) \(holder.0) (\(holder.1))"
            )
        }
        if let tenant = tenants.first(where: { times.isShown(for: $0.id) }) {
            Swift.print(Self.nextLine(tenant: tenant.id, dataDirectory: dataDirectory, window: window))
        }
    }

    /// The demo's own window: its week's start to the end of the last generated day.
    private func demoWindow() -> (from: Timestamp, to: Timestamp) {
        let start = Timestamp(microsecondsSinceEpoch: DemoWorld(tenants: 0).weekStart)
        return (start, start.adding(seconds: Double(max(1, days)) * 86_400))
    }

    /// The command that charts the demo's window from the demo's data directory.
    static func nextLine(tenant: TenantID, dataDirectory: String, window: (from: Timestamp, to: Timestamp)) -> String {
        "Next: cumulus report time-in-state --data-dir \(shellQuoted(dataDirectory)) --tenant \(tenant) "
            + "--actor userSupervisor:\(tenant) --from \(window.from.iso8601) --to \(window.to.iso8601) "
            + "--format html > week.html"
    }

    /// `text` as one shell word: as is when it is made of safe characters, otherwise in single quotes.
    static func shellQuoted(_ text: String) -> String {
        let safe = text.unicodeScalars.allSatisfy {
            ($0.value < 0x80 && (CharacterSet.alphanumerics.contains($0))) || "/._-+=:,@".unicodeScalars.contains($0)
        }
        return safe && !text.isEmpty ? text : "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    private func hours(_ seconds: Double) -> String {
        String(format: "%6.1f h", seconds / 3600)
    }
}
