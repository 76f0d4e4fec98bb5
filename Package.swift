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
        /// The event log on PostgreSQL, for several servers sharing one log (docs/postgres.md).
        .library(name: "CumulusPostgres", targets: ["CumulusPostgres"]),
        .executable(name: "cumulus", targets: ["cumulus"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.25.0"),
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
            name: "CumulusPostgres",
            dependencies: [
                "CumulusLog",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .target(
            name: "CumulusProjections",
            dependencies: ["CumulusLog", "CumulusDomain"],
            path: "Projections",
            exclude: ["README.md"]
        ),
        .executableTarget(
            name: "cumulus",
            dependencies: [
                "CumulusLog", "CumulusLMDB", "CumulusDomain", "CumulusCommands", "CumulusProjections",
                "CumulusPostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tools/cumulus"
        ),
        .executableTarget(
            name: "cumulus-pg-torture",
            dependencies: ["CumulusLog", "CumulusPostgres"],
            path: "Tools/cumulus-pg-torture"
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
                "CumulusProjections", "CumulusPostgres",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
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
        .testTarget(name: "CumulusLogTests", dependencies: ["CumulusLog", "CumulusTesting"]),
        .testTarget(name: "CumulusLMDBTests", dependencies: ["CLMDB", "CumulusLMDB", "CumulusLog", "CumulusTesting"]),
        .testTarget(name: "CumulusCLITests", dependencies: ["CumulusLog", "CumulusLMDB", "CumulusTesting"]),
        .testTarget(
            name: "CumulusPostgresTests",
            dependencies: [
                "CumulusPostgres", "CumulusLog", "CumulusLMDB", "CumulusTesting",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + strictSettings
}
