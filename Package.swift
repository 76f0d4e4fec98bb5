// swift-tools-version:6.1
import PackageDescription

/// Settings every Cumulus target shares: Swift 6 language mode is set package-wide below; these
/// upcoming features keep imports honest (`internal import CLMDB` keeps C types out of public API).
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Cumulus",
    platforms: [.macOS(.v15)],
    products: [
        /// The event log: the storage protocol, the envelope types and the embedded LMDB backend.
        .library(name: "Cumulus", targets: ["CumulusLog", "CumulusLMDB"]),
        /// Temporary logs and the backend conformance suite, for the tests of services that embed Cumulus.
        .library(name: "CumulusTesting", targets: ["CumulusTesting"]),
        /// The OData v4 reporting feed (request in, status/headers/body out; no HTTP server inside).
        .library(name: "CumulusOData", targets: ["CumulusOData"]),
        .executable(name: "cumulus", targets: ["cumulus"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
        .target(
            name: "CumulusLog",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(name: "CumulusLMDB", dependencies: ["CLMDB", "CumulusLog"]),
        .target(name: "CumulusDomain", dependencies: ["CumulusLog"]),
        .target(name: "CumulusCommands", dependencies: ["CumulusDomain", "CumulusLog"]),
        .target(name: "CumulusTesting", dependencies: ["CumulusLog", "CumulusLMDB"]),
        .target(
            name: "CumulusProjections",
            dependencies: ["CumulusLog", "CumulusDomain"],
            path: "Projections",
            exclude: ["README.md"]
        ),
        .target(
            name: "CumulusOData",
            dependencies: [
                "CumulusLog", "CumulusDomain", "CumulusProjections", .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "cumulus",
            dependencies: [
                "CumulusLog", "CumulusLMDB", "CumulusDomain", "CumulusCommands", "CumulusProjections", "CumulusOData",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tools/cumulus"
        ),
        .executableTarget(
            name: "cumulus-torture",
            dependencies: ["CumulusLog", "CumulusLMDB"],
            path: "Tools/cumulus-torture"
        ),
        .systemLibrary(
            name: "CSQLite", path: "Benchmarks/CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .executableTarget(
            name: "cumulus-bench",
            dependencies: [
                "CLMDB", "CSQLite", "CumulusLog", "CumulusLMDB", "CumulusDomain", "CumulusCommands",
                "CumulusProjections",
            ],
            path: "Benchmarks/cumulus-bench"
        ),
        .testTarget(name: "CumulusDomainTests", dependencies: ["CumulusDomain", "CumulusLog"], exclude: ["Fixtures"]),
        .testTarget(
            name: "CumulusProjectionsTests", dependencies: ["CumulusProjections", "CumulusDomain", "CumulusLog"]),
        .testTarget(
            name: "CumulusCommandsTests",
            dependencies: [
                "CumulusCommands", "CumulusDomain", "CumulusLog", "CumulusLMDB", "CumulusProjections", "CumulusTesting",
            ],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "CumulusODataTests",
            dependencies: ["CumulusOData", "CumulusProjections", "CumulusDomain", "CumulusLog"]),
        .testTarget(name: "CumulusLogTests", dependencies: ["CumulusLog", "CumulusTesting"]),
        .testTarget(name: "CumulusLMDBTests", dependencies: ["CLMDB", "CumulusLMDB", "CumulusLog", "CumulusTesting"]),
        .testTarget(name: "CumulusCLITests", dependencies: ["CumulusLog", "CumulusLMDB", "CumulusTesting"]),
    ],
    swiftLanguageModes: [.v6]
)

for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + strictSettings
}
