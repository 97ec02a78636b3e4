import Foundation
import Testing
import Theano

// Two "hosts" on one machine for the distributed-training tests: network namespaces joined
// by a virtual Ethernet pair.

/// A pair of network namespaces joined by a veth pair: the hosts of ``DistributedHostsTests``.
struct NetworkNamespaces {
    let names: [String], addresses: [String], directory: String

    /// Whether this process may make namespaces (root, with `ip`).
    static let usable: Bool = {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") || FileManager.default.isExecutableFile(atPath: "/sbin/ip") else {
            return false
        }
        let name = "theano-probe-\(getpid())"
        defer { _ = try? shell("ip netns del \(name)") }
        return (try? shell("ip netns add \(name)")) != nil
    }()

    init() throws {
        // Names and a subnet of this process's own, so that concurrent runs do not meet.
        let tag = "\(getpid() % 10_000)", network = "10.\(77 + getpid() % 100).\(getpid() / 100 % 250)"
        names = ["th\(tag)a", "th\(tag)b"]
        addresses = [network + ".1", network + ".2"]
        directory = Scratch.freshPath("hosts")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let (a, b) = (names[0], names[1])
        try shell("""
            ip netns add \(a) && ip netns add \(b) && ip link add v\(a) type veth peer name v\(b) && \
            ip link set v\(a) netns \(a) && ip link set v\(b) netns \(b) && \
            ip -n \(a) addr add \(addresses[0])/24 dev v\(a) && ip -n \(b) addr add \(addresses[1])/24 dev v\(b) && \
            ip -n \(a) link set v\(a) up && ip -n \(b) link set v\(b) up && ip -n \(a) link set lo up && ip -n \(b) link set lo up
            """)
        // Open MPI reaches the other host with this instead of ssh: `agent host command…`.
        try """
            #!/bin/sh
            host=$1; shift
            case $host in \(addresses[0])) ns=\(a);; \(addresses[1])) ns=\(b);; *) echo "unknown host $host" >&2; exit 1;; esac
            exec ip netns exec $ns sh -c "$*"

            """.write(toFile: "\(directory)/agent", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(directory)/agent")
        try addresses.map { "\($0) slots=1\n" }.joined().write(toFile: "\(directory)/hosts", atomically: true, encoding: .utf8)
    }

    /// `theano arguments` in one process per host, started from the first host.
    func run(_ arguments: [String]) throws -> Tool.Result {
        let subnet = addresses[0].split(separator: ".").prefix(3).joined(separator: ".") + ".0/24"
        let command = ["ip", "netns", "exec", names[0], try #require(MPIJob.launcher), "--allow-run-as-root", "-np", "2",
                       "--hostfile", "\(directory)/hosts", "--mca", "plm_rsh_agent", "\(directory)/agent", "--mca", "btl", "tcp,self",
                       "--mca", "btl_tcp_if_include", subnet, "--mca", "oob_tcp_if_include", subnet, try #require(Tool.executable)] + arguments
        return try Tool.launch("/bin/sh", ["-c", "exec timeout 120 \"$@\"", "sh"] + command).finish()
    }

    /// The bytes the first host has sent over its link.
    func bytesSent() throws -> Int {
        let text = try shell("cat /proc/net/dev", namespace: names[0])
        let line = try #require(text.split(separator: "\n").first { $0.contains("v\(names[0]):") })
        // Interface: receive (8 fields), then transmit bytes.
        return try #require(Int(line.split(separator: ":")[1].split(separator: " ")[8]))
    }

    func remove() {
        for name in names { _ = try? shell("ip netns del \(name)") }
    }
}

/// Runs `command` with `sh` (in network namespace `namespace`, if given); its output, or an
/// error when it fails.
@discardableResult
private func shell(_ command: String, namespace: String? = nil) throws -> String {
    let process = Process(), output = Pipe()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", namespace.map { "ip netns exec \($0) sh -c '\(command)'" } ?? command]
    process.standardOutput = output
    process.standardError = Pipe()
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw TheanoError.toolFailed(tool: "sh", reason: "\(command) exited with \(process.terminationStatus)") }
    return text
}
