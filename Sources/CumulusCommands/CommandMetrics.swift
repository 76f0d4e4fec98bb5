import CoreMetrics
import CumulusDomain
import Logging
import Synchronization

/// What ``CommandHandler`` reports per command through swift-metrics and its logger.
///
/// `cumulus_commands` counts every command by `action` (the permission-matrix action, a fixed set), `outcome`
/// (`accepted`, `refused`, `failed`) and `reason` (why it was refused or failed: a fixed code such as
/// `permission_denied` or `licence_exhausted`, `none` when accepted). `cumulus_command_retries` counts, by
/// `action`, the decisions made again because their append met a stream another writer (task, handler or process)
/// had moved: how often writers race. Log lines carry the same values and never a command's fields, ids, names or
/// contact data.
final class CommandMetrics: Sendable {
    let factory: any MetricsFactory
    let logger: Logger
    /// One counter per (action, outcome, reason), made on first use.
    private let counters = Mutex<[String: Counter]>([:])

    init(factory: any MetricsFactory, logger: Logger) {
        self.factory = factory
        self.logger = logger
    }

    /// Counts and logs one command's result.
    func record(_ request: CommandRequest, _ result: Result<CommandOutcome, CommandError>) {
        let action = request.command.action.rawValue
        switch result {
        case .success(let outcome):
            count(action, outcome: "accepted", reason: "none")
            logger.trace(
                "command accepted", metadata: ["action": "\(action)", "events": "\(outcome.eventCount)"])
        case .failure(let error):
            let reason = error.reasonCode
            let outcome = if case .refused = error { "refused" } else { "failed" }
            count(action, outcome: outcome, reason: reason)
            if case .refused = error {
                logger.debug("command refused", metadata: ["action": "\(action)", "reason": "\(reason)"])
            } else {
                logger.warning("command failed", metadata: ["action": "\(action)", "reason": "\(reason)"])
            }
        }
    }

    /// Counts one decision made again after losing a race for a stream.
    func retry(_ request: CommandRequest) {
        let action = request.command.action.rawValue
        let key = "retry/" + action
        let counter = counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(label: "cumulus_command_retries", dimensions: [("action", action)], factory: factory)
            counters[key] = counter
            return counter
        }
        counter.increment()
        logger.debug("command decided again after losing a race", metadata: ["action": "\(action)"])
    }

    private func count(_ action: String, outcome: String, reason: String) {
        let key = action + "/" + outcome + "/" + reason
        let counter = counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(
                label: "cumulus_commands",
                dimensions: [("action", action), ("outcome", outcome), ("reason", reason)],
                factory: factory
            )
            counters[key] = counter
            return counter
        }
        counter.increment()
    }
}

extension CommandError {
    /// A fixed code for why the command was not carried out, safe for metrics and logs (no data of the command).
    var reasonCode: String {
        switch self {
        case .refused(let error):
            switch error {
            case .permissionDenied: "permission_denied"
            case .validation: "validation"
            case .licenceExhausted: "licence_exhausted"
            case .tenantNotOperational: "tenant_not_operational"
            case .notLive: "not_live"
            case .notFound: "not_found"
            case .alreadyExists: "already_exists"
            case .conflict: "conflict"
            case .deletionNotConfirmed: "deletion_not_confirmed"
            case .ouNotEmpty: "ou_not_empty"
            case .invalidTreeChange: "invalid_tree_change"
            }
        case .storage: "storage"
        case .undecodableEvent: "undecodable_event"
        case .streamConflict: "stream_conflict"
        case .tooMuchContention: "too_much_contention"
        }
    }
}
