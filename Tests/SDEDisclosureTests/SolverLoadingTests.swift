import Testing

@testable import SDEDisclosure

/// GLPK is loaded at run time: found, it solves; missing, every audit fails closed naming the package to install.
@Suite struct SolverLoadingTests {
    @Test func theInstalledLibraryLoads() throws {
        try AttackerAuditSolver.check()
        _ = try SimplexParameters(try GLPK.load())
    }

    @Test func aMissingLibraryIsATypedErrorNamingThePackage() {
        do {
            _ = try GLPK(names: ["libglpk-absent.so.99"])
            Issue.record("a library that does not exist loaded")
        } catch {
            #expect(error.code == .solverUnavailable)
            #expect(error.message.contains("apt-get install libglpk40"))
        }
    }
}
