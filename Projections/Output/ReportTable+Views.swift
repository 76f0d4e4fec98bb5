import CumulusDomain
import CumulusLog

extension ReportTable {
    /// The user-state report's columns (domain.md §9): tenant, user id, user name, OU, responsibility profile,
    /// user state, presence availability, presence activity, start, end, duration in seconds (UTC, ISO 8601).
    public static func userStates(_ rows: [UserStateReportRow]) -> ReportTable {
        ReportTable(
            columns: [
                "tenant", "userId", "userName", "organizationUnit", "responsibilityProfile", "userState",
                "presenceAvailability", "presenceActivity", "start", "end", "durationSeconds",
            ],
            rows: rows.map { row in
                [
                    .text(row.tenant.description), .text(row.user.description), .text(row.userName), .text(row.ouName),
                    optional(row.responsibilityProfile), optional(row.userState?.name),
                    optional(row.availability?.rawValue), optional(row.activity?.rawValue),
                    .text(row.start.iso8601), optional(row.end?.iso8601),
                    row.durationSeconds.map(ReportCell.decimal) ?? .empty,
                ]
            })
    }

    /// Current states (`cumulus report current-states`, `GET /v1/reports/current-states`), one row per user by
    /// name: user id, the user's name as `view` shows it, user state, responsibility profile, since when and
    /// seconds elapsed; presence availability and activity, since when and seconds elapsed; the instant.
    public static func currentStates(_ snapshots: [TimeInStateSnapshot], view: PartnerView) -> ReportTable {
        func text(_ value: String?) -> ReportCell { value.map { .text($0) } ?? .empty }
        func seconds(_ value: Double?) -> ReportCell { value.map { .decimal($0) } ?? .empty }
        let rows = snapshots.sorted { $0.userName < $1.userName }.map { snapshot -> [ReportCell] in
            [
                .text(snapshot.user.description), .text(view.userIdentifier(snapshot.userName)),
                text(snapshot.state.userState?.description), text(snapshot.state.responsibilityProfile),
                text(snapshot.userStateSince?.iso8601), seconds(snapshot.userStateElapsedSeconds),
                text(snapshot.state.availability?.rawValue), text(snapshot.state.activity?.rawValue),
                text(snapshot.presenceSince?.iso8601), seconds(snapshot.presenceElapsedSeconds),
                .text(snapshot.instant.iso8601),
            ]
        }
        return ReportTable(
            columns: [
                "userId", "userName", "userState", "responsibilityProfile", "userStateSince", "userStateSeconds",
                "presenceAvailability", "presenceActivity", "presenceSince", "presenceSeconds", "at",
            ],
            rows: rows)
    }

    /// Licence counters: tenant, kind, contingent, used, available.
    public static func licences(_ counters: [LicenceCounter]) -> ReportTable {
        ReportTable(
            columns: ["tenant", "kind", "contingent", "used", "available"],
            rows: counters.map {
                [
                    .text($0.tenant.description), .text($0.kind.rawValue), .integer($0.contingent), .integer($0.used),
                    .integer($0.available),
                ]
            })
    }

    /// Time in state, one row per user and state: tenant, user id, user name, dimension (`userState` or
    /// `availability`), state, seconds, window start and end.
    public static func timeInState(_ summaries: [TimeInStateSummary]) -> ReportTable {
        var rows: [[ReportCell]] = []
        for summary in summaries {
            for (dimension, seconds) in [
                ("userState", summary.secondsPerUserState), ("availability", summary.secondsPerAvailability),
            ] {
                for (state, value) in seconds.sorted(by: { $0.key < $1.key }) {
                    rows.append([
                        .text(summary.tenant.description), .text(summary.user.description), .text(summary.userName),
                        .text(dimension), .text(state), .decimal(value), .text(summary.from.iso8601),
                        .text(summary.to.iso8601),
                    ])
                }
            }
        }
        return ReportTable(
            columns: ["tenant", "userId", "userName", "dimension", "state", "seconds", "from", "to"], rows: rows)
    }

    /// An audit listing: position, occurredAt, recordedAt, actor, event type, field, old, new (secrets masked).
    public static func audit(_ entries: [AuditEntry]) -> ReportTable {
        var rows: [[ReportCell]] = []
        for entry in entries {
            let common: [ReportCell] = [
                .integer(Int(truncatingIfNeeded: entry.position.rawValue)), .text(entry.occurredAt.iso8601),
                .text(entry.recordedAt.iso8601), .text(entry.actor), .text(entry.eventType),
            ]
            if entry.changes.isEmpty { rows.append(common + [.empty, .empty, .empty]) }
            for change in entry.changes {
                rows.append(common + [.text(change.field), optional(change.old), optional(change.new)])
            }
        }
        return ReportTable(
            columns: ["position", "occurredAt", "recordedAt", "actor", "event", "field", "old", "new"], rows: rows)
    }

    private static func optional(_ text: String?) -> ReportCell { text.map(ReportCell.text) ?? .empty }
}

extension ReportTable {
    /// Time in state by interval (domain.md §11), one row per user, interval, user state and availability: tenant,
    /// user id, user name, interval length, interval start (UTC and local), interval end, user state,
    /// availability (empty while not known) and seconds.
    public static func timeInStateIntervals(_ rows: [TimeInStateIntervalRow]) -> ReportTable {
        ReportTable(
            columns: [
                "tenant", "userId", "userName", "interval", "intervalStart", "intervalStartLocal", "intervalEnd",
                "userState", "presenceAvailability", "seconds",
            ],
            rows: rows.map { row in
                [
                    .text(row.tenant.description), .text(row.user.description), .text(row.userName),
                    .text(row.interval.rawValue), .text(row.intervalStart.iso8601), .text(row.intervalStartLocal),
                    .text(row.intervalEnd.iso8601), row.userState.map(ReportCell.text) ?? .empty,
                    row.availability.map(ReportCell.text) ?? .empty, .decimal(row.seconds),
                ]
            })
    }
}
