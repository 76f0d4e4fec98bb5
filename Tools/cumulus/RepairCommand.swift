import ArgumentParser
import CumulusLMDB
import CumulusLog
import Foundation

struct RepairCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repair",
        abstract: "Restore a log whose one LMDB meta page is damaged from the other, intact one.",
        discussion: """
            Repairs only that damage: LMDB keeps two meta pages and refuses the file when either is unreadable.
            The repair rewrites the bad page from the good one in a copy, verifies the copy completely, keeps the
            original as data.mdb.damaged-<time> and puts the copy in its place. The log then holds the commit the
            good page records; a later commit recorded only on the damaged page, if there was one, is lost.
            Stop every process using the log first. Exit status 0: repaired (or nothing to repair); 1: not done.
            """
    )

    @OptionGroup var data: DataDirectoryOptions

    func run() async throws {
        try await reporting {
            DamageHandling.install()
            switch try await MetaPageRepair.repair(directory: try data.lmdbDirectory()) {
            case .nothingToRepair(let transaction):
                print("nothing to repair: both meta pages are intact (last commit: txn \(transaction))")
            case .repaired(let page, let damage, let transaction, let backup, let report):
                print("meta page \(page) was \(damage); rewritten from meta page \(1 - page) (txn \(transaction))")
                print(
                    "log verified: \(report.eventCount) events in \(report.streamCount) streams, "
                        + "last position \(report.lastPosition)")
                print("the damaged original is kept at \(backup)")
                print(
                    "the log now holds the commit of txn \(transaction); a later commit recorded only on the damaged "
                        + "page, if there was one, is lost")
            }
        }
    }
}
