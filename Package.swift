// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "fpprof",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "fpprof", targets: ["fpprof"]),
        .library(name: "FPProfCore", targets: ["FPProfCore"]),
        .library(name: "FPProfSymbols", targets: ["FPProfSymbols"]),
        .library(name: "FPProfSampler", targets: ["FPProfSampler"]),
        .library(name: "FPProfOutput", targets: ["FPProfOutput"]),
        .library(name: "FPProfEngine", targets: ["FPProfEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.28.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // Edge: the perf_event_open syscall, ioctls and the ring's acquire/release accesses.
        .target(name: "CPerfEvent"),
        // Edge: libelf + libdw headers, found through pkg-config.
        .systemLibrary(
            name: "CElfutils",
            pkgConfig: "libdw",
            providers: [.apt(["libdw-dev", "libelf-dev"])]
        ),
        // Edge: libiberty's C++/Rust demangler (static library from libiberty-dev).
        .systemLibrary(name: "CDemangle", providers: [.apt(["libiberty-dev"])]),
        // Pure Swift: records, decoding, unwinding, aggregation, folded output.
        .target(name: "FPProfCore"),
        .target(name: "FPProfSymbols", dependencies: ["FPProfCore", "CElfutils", "CDemangle", "CZlib"]),
        // Edge: Debian's zlib, which writes the gzip of pprof files and checks the CRC-32 of .gnu_debuglink files.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Writers people open: pprof (swift-protobuf, generated code committed; gzip by zlib), SVG flamegraph, speedscope.
        .target(
            name: "FPProfOutput",
            dependencies: [
                "FPProfCore", "CZlib",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            // The schema the committed profile.pb.swift was generated from, kept for regeneration.
            exclude: ["Proto/profile.proto"]
        ),
        .target(name: "FPProfSampler", dependencies: ["FPProfCore", "CPerfEvent"]),
        // One recording from sampler to rendered windows: what the CLI, the daemon and the benchmarks share.
        .target(
            name: "FPProfEngine",
            dependencies: [
                "FPProfCore", "FPProfSymbols", "FPProfSampler", "FPProfOutput",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Edge: libsystemd's sd_notify, for the daemon's readiness, reload, stop and watchdog messages.
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        .systemLibrary(name: "CMalloc"),
        // The continuous-profiling service: configuration, target discovery, window files and retention, systemd.
        .target(
            name: "FPProfDaemon",
            dependencies: [
                "FPProfCore", "FPProfSymbols", "FPProfSampler", "FPProfOutput", "FPProfEngine", "CSystemd", "CMalloc",
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // The CLI: argument parsing, terminal status and exit codes over FPProfEngine and FPProfDaemon.
        .target(
            name: "FPProfCommands",
            dependencies: [
                "FPProfCore", "FPProfSymbols", "FPProfSampler", "FPProfOutput", "FPProfEngine", "FPProfDaemon",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(name: "fpprof", dependencies: ["FPProfCommands"]),
        .testTarget(name: "FPProfCoreTests", dependencies: ["FPProfCore"]),
        .testTarget(name: "FPProfSymbolsTests", dependencies: ["FPProfSymbols", "FPProfCore"]),
        .testTarget(name: "FPProfSamplerTests", dependencies: ["FPProfSampler", "FPProfCore"]),
        .testTarget(name: "FPProfOutputTests", dependencies: ["FPProfOutput", "FPProfCore"]),
        .testTarget(name: "FPProfDaemonTests", dependencies: ["FPProfDaemon", "FPProfCore", "FPProfOutput"]),
        .testTarget(
            name: "FPProfEngineTests",
            dependencies: [
                "FPProfEngine", "FPProfCore", "FPProfSampler", "FPProfOutput", "FPProfSymbols",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "FPProfEndToEndTests",
            dependencies: [
                "FPProfCore", "FPProfSymbols", "FPProfSampler", "FPProfOutput", "FPProfEngine", "FPProfDaemon",
                "fpprof",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
