import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// GLPK, the linear-programming solver behind the attacker audit, loaded at run time (`dlopen`), so that building the
/// broker needs no C headers. Only the functions ``LinearProgram`` calls are looked up, each typed as its C prototype in
/// `glpk.h` (GLPK 4.x and 5.x share them).
///
/// When the library is missing, every audit fails closed with ``DisclosureError/Code/solverUnavailable``, naming the
/// package to install: no table with a suppressed cell is released unaudited.
///
/// ```swift
/// let glpk = try GLPK.load()
/// let problem = glpk.createProblem()
/// ```
struct GLPK: @unchecked Sendable {  // C function pointers into a library that is never unloaded: immutable addresses.
    typealias Problem = OpaquePointer

    let termOut: @convention(c) (Int32) -> Int32
    let createProblem: @convention(c) () -> Problem?
    let deleteProblem: @convention(c) (Problem?) -> Void
    let addRows: @convention(c) (Problem?, Int32) -> Int32
    let addColumns: @convention(c) (Problem?, Int32) -> Int32
    let setRowBounds: @convention(c) (Problem?, Int32, Int32, Double, Double) -> Void
    let setColumnBounds: @convention(c) (Problem?, Int32, Int32, Double, Double) -> Void
    let setObjectiveCoefficient: @convention(c) (Problem?, Int32, Double) -> Void
    let setObjectiveDirection: @convention(c) (Problem?, Int32) -> Void
    let loadMatrix: @convention(c) (Problem?, Int32, UnsafePointer<Int32>?, UnsafePointer<Int32>?, UnsafePointer<Double>?) -> Void
    let advancedBasis: @convention(c) (Problem?, Int32) -> Void
    let initSimplexParameters: @convention(c) (UnsafeMutableRawPointer?) -> Void
    let simplex: @convention(c) (Problem?, UnsafeRawPointer?) -> Int32
    let status: @convention(c) (Problem?) -> Int32
    let objectiveValue: @convention(c) (Problem?) -> Double

    /// The constants of `glpk.h` the audit uses.
    static let off: Int32 = 0, minimise: Int32 = 1, maximise: Int32 = 2
    static let lowerBounded: Int32 = 2, doubleBounded: Int32 = 4, fixed: Int32 = 5
    static let optimal: Int32 = 5, unbounded: Int32 = 6
    static let messagesOff: Int32 = 0, primal: Int32 = 1, dantzigPricing: Int32 = 0x11

    /// The names tried in order: Debian's and Ubuntu's runtime package (`libglpk40`), then the development symlink and
    /// Homebrew's.
    static let libraryNames = ["libglpk.so.40", "libglpk.so", "libglpk.40.dylib", "/opt/homebrew/lib/libglpk.dylib", "/usr/local/lib/libglpk.dylib"]

    /// The one exact command that installs the library on Debian or Ubuntu.
    static let installCommand = "apt-get install \(AttackerAuditSolver.package)"

    /// The library, loaded once per process (tried again after a failure: the quickstart may install it meanwhile).
    static func load() throws(DisclosureError) -> GLPK {
        try loaded.withLock { (cached: inout GLPK?) throws(DisclosureError) -> GLPK in
            if let cached { return cached }
            let glpk = try GLPK(names: libraryNames)
            cached = glpk
            return glpk
        }
    }

    private static let loaded = Mutex<GLPK?>(nil)

    /// The first of `names` that loads, with every function looked up.
    init(names: [String]) throws(DisclosureError) {
        guard let handle = names.lazy.compactMap({ dlopen($0, RTLD_NOW | RTLD_LOCAL) }).first else {
            throw .solverUnavailable("the GLPK solver library (libglpk.so.40) is not installed: \(Self.installCommand)")
        }
        func symbol<F>(_ name: String, as type: F.Type) throws(DisclosureError) -> F {
            guard let address = dlsym(handle, name) else {
                throw .solverUnavailable("the GLPK library found lacks \(name): install GLPK 4.65 or later (\(Self.installCommand))")
            }
            return unsafeBitCast(address, to: type)
        }
        termOut = try symbol("glp_term_out", as: (@convention(c) (Int32) -> Int32).self)
        createProblem = try symbol("glp_create_prob", as: (@convention(c) () -> Problem?).self)
        deleteProblem = try symbol("glp_delete_prob", as: (@convention(c) (Problem?) -> Void).self)
        addRows = try symbol("glp_add_rows", as: (@convention(c) (Problem?, Int32) -> Int32).self)
        addColumns = try symbol("glp_add_cols", as: (@convention(c) (Problem?, Int32) -> Int32).self)
        setRowBounds = try symbol("glp_set_row_bnds", as: (@convention(c) (Problem?, Int32, Int32, Double, Double) -> Void).self)
        setColumnBounds = try symbol("glp_set_col_bnds", as: (@convention(c) (Problem?, Int32, Int32, Double, Double) -> Void).self)
        setObjectiveCoefficient = try symbol("glp_set_obj_coef", as: (@convention(c) (Problem?, Int32, Double) -> Void).self)
        setObjectiveDirection = try symbol("glp_set_obj_dir", as: (@convention(c) (Problem?, Int32) -> Void).self)
        loadMatrix = try symbol(
            "glp_load_matrix", as: (@convention(c) (Problem?, Int32, UnsafePointer<Int32>?, UnsafePointer<Int32>?, UnsafePointer<Double>?) -> Void).self)
        advancedBasis = try symbol("glp_adv_basis", as: (@convention(c) (Problem?, Int32) -> Void).self)
        initSimplexParameters = try symbol("glp_init_smcp", as: (@convention(c) (UnsafeMutableRawPointer?) -> Void).self)
        simplex = try symbol("glp_simplex", as: (@convention(c) (Problem?, UnsafeRawPointer?) -> Int32).self)
        status = try symbol("glp_get_status", as: (@convention(c) (Problem?) -> Int32).self)
        objectiveValue = try symbol("glp_get_obj_val", as: (@convention(c) (Problem?) -> Double).self)
    }
}

/// GLPK's `glp_smcp` (simplex control parameters) without its header: a zeroed buffer larger than the struct, filled by
/// `glp_init_smcp`, with the four fields the audit sets written at their offsets in `glpk.h`'s layout (`int msg_lev,
/// meth, pricing, r_test; double tol_bnd, ...; int presolve` at byte 72). The layout is checked against the defaults
/// `glp_init_smcp` writes, so a library with another layout fails closed instead of being misconfigured.
final class SimplexParameters {
    private static let byteCount = 1024
    /// The buffer handed to `glp_simplex`.
    let pointer: UnsafeMutableRawPointer

    /// Primal simplex, Dantzig's pricing, no presolver, no messages.
    init(_ glpk: GLPK) throws(DisclosureError) {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: Self.byteCount, alignment: 16)
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: Self.byteCount)
        glpk.initSimplexParameters(buffer)
        // glp_init_smcp's defaults: msg_lev GLP_MSG_ALL (3), meth GLP_PRIMAL (1), tol_bnd 1e-7, it_lim INT_MAX.
        guard buffer.load(fromByteOffset: 0, as: Int32.self) == 3, buffer.load(fromByteOffset: 4, as: Int32.self) == GLPK.primal,
            buffer.load(fromByteOffset: 16, as: Double.self) == 1e-7, buffer.load(fromByteOffset: 56, as: Int32.self) == Int32.max
        else {
            buffer.deallocate()
            throw .solverUnavailable("the GLPK library found has an unexpected glp_smcp layout: install GLPK 4.65 or later (\(GLPK.installCommand))")
        }
        buffer.storeBytes(of: GLPK.messagesOff, toByteOffset: 0, as: Int32.self)
        buffer.storeBytes(of: GLPK.primal, toByteOffset: 4, as: Int32.self)
        buffer.storeBytes(of: GLPK.dantzigPricing, toByteOffset: 8, as: Int32.self)
        buffer.storeBytes(of: GLPK.off, toByteOffset: 72, as: Int32.self)
        pointer = buffer
    }

    deinit { pointer.deallocate() }
}

/// The attacker audit's solver, as a deployment sees it.
public enum AttackerAuditSolver {
    /// Loads GLPK, or throws ``DisclosureError/Code/solverUnavailable`` naming the package to install.
    public static func check() throws(DisclosureError) { _ = try GLPK.load() }

    /// The Debian package that holds the solver library.
    public static let package = "libglpk40"
}
