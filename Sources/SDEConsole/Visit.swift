import Hummingbird
import Logging
import SDEAudit
import SDEHTTP
import SDEPolicy
import SDEService

/// A request of a signed-in user, once the session is live, the token still valid and (for a POST) the form's
/// anti-forgery token checked: the caller the services are called as, the form or query string, and the navigation.
struct Visit: Sendable {
    let session: ConsoleSession
    let user: SignedIn
    let caller: Caller
    let fields: FormFields

    var nav: Navigation { Navigation(user, csrf: session.csrf) }
}

extension Navigation {
    /// The navigation of `user`, whose forms carry `csrf`.
    init(_ user: SignedIn, csrf: String) {
        self.init(
            name: user.name, researcher: user.roles.contains(.researcher), officer: user.roles.contains(.igOfficer),
            regulator: user.roles.contains(.regulator), csrf: csrf)
    }
}

/// The name of the session cookie.
let sessionCookie = "sde_console"

extension WebConsole {
    typealias Handler = @Sendable (Request, BrokerContext) async throws -> Response

    /// A page for signed-in users. Without a live session the user is sent to sign in (a session that has run out is
    /// audited `auth.failed`, reason `session_expired`); a token revoked or expired since sign-in ends the session (the
    /// token service audits it). A POST without the session's anti-forgery token is refused 403. Any refusal the
    /// services did not audit (a bad form, a missing anti-forgery token) is recorded under `action` (or `refusedAs`)
    /// before the error page is sent, as the API does: every request of a signed-in user is one audit event.
    func signedIn(
        _ action: AuditAction, refusedAs: AuditAction? = nil, _ body: @escaping @Sendable (Request, BrokerContext, Visit) async throws -> Response
    )
        -> Handler
    {
        { request, context in
            guard let id = request.cookies[sessionCookie]?.value else { return .seeOther(Paths.signIn) }
            guard let session = await sessions.use(id) else {
                return await refusingSession(.expired) { .seeOther(Paths.signIn + "?expired=1", cookie: clearedCookie) }
            }
            guard let user = session.user else { return .seeOther(Paths.signIn) }
            let caller: Caller
            do {
                caller = try await broker.tokens.authenticate(token: user.token, client: context.client)
            } catch let error as ServiceError {
                if case .unauthenticated = error.code.kind {
                    await sessions.remove(id)
                    return .seeOther(Paths.signIn + "?expired=1", cookie: clearedCookie)
                }
                let refusal = APIError(error)
                return pages.error(refusal.status, refusal.message, nav: nil)
            }
            let subject = AuditSubject(
                action, refusedAs: refusedAs, project: context.parameters.get("project"),
                target: context.parameters.get("query") ?? context.parameters.get("release"))
            var visit = Visit(session: session, user: user, caller: caller, fields: FormFields(values: [:]))
            do {
                if request.method == .post {
                    visit = Visit(session: session, user: user, caller: caller, fields: try await FormFields(request, context: context))
                    guard let csrf = visit.fields["csrf"], csrf.constantTimeEquals(session.csrf) else { throw ConsoleError.csrfInvalid }
                } else {
                    visit = Visit(session: session, user: user, caller: caller, fields: try FormFields(query: request))
                }
                return try await body(request, context, visit)
            } catch {
                return await refusal(error, caller: caller, subject: subject, nav: visit.nav)
            }
        }
    }

    /// `response` once the refusal of a request without a usable session is audited; the error page when it cannot be.
    func refusingSession(_ why: SessionRejection, _ response: () -> Response) async -> Response {
        do {
            try await broker.tokens.refuseSession(why)
            return response()
        } catch {
            return auditUnavailable(nav: nil)
        }
    }

    /// The page shown when the audit trail cannot record a request: nothing else is shown.
    func auditUnavailable(nav: Navigation?) -> Response {
        pages.error(.serviceUnavailable, "The audit trail cannot be written, so nothing can be shown. Try again later.", nav: nav)
    }

    /// The navigation of the request's session, if it is live and signed in (for pages that need no sign-in).
    func navigation(_ request: Request) async -> Navigation? {
        guard let id = request.cookies[sessionCookie]?.value, let session = await sessions.use(id), let user = session.user else { return nil }
        return Navigation(user, csrf: session.csrf)
    }

    /// The error page for `error`, after recording it under `subject` when nothing has yet.
    func refusal(_ error: any Error, caller: Caller, subject: AuditSubject, nav: Navigation) async -> Response {
        let status: HTTPResponse.Status, message: String, reason: String, audited: Bool
        if let error = error as? ConsoleError {
            (status, message, reason, audited) = (error.status, error.message, error.reason, false)
        } else {
            let mapped = APIError(error)
            if mapped.status == .unauthorized { return .seeOther(Paths.signIn + "?expired=1", cookie: clearedCookie) }
            if mapped.code == "internal_error" {
                logger.debug("console request failed", metadata: ["sde.console.error": "\(String(reflecting: type(of: error)))"])
            }
            (status, message, reason, audited) = (mapped.status, mapped.message, mapped.code, mapped.auditSequence != nil)
        }
        if !audited {
            do {
                try await broker.gate.recordRefusal(caller, subject, reason: reason, failed: status.code >= 500)
            } catch {
                return auditUnavailable(nav: nav)
            }
        }
        return pages.error(status, message, nav: nav)
    }

    /// The session cookie for `session`: HttpOnly, SameSite=Strict, for the whole site, Secure when so configured.
    func cookie(_ session: ConsoleSession) -> String {
        "\(sessionCookie)=\(session.id); Path=/; HttpOnly; SameSite=Strict" + (settings.secureCookies ? "; Secure" : "")
    }

    /// A cookie that deletes the session cookie.
    var clearedCookie: String {
        "\(sessionCookie)=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict" + (settings.secureCookies ? "; Secure" : "")
    }
}
