import Foundation
import HTTPTypes
import Hummingbird
import SDEHTTP
import SDEPolicy
import SDEService

extension WebConsole {
    /// `GET /console/sign-in` (the form, in a session of its own so that it carries an anti-forgery token),
    /// `POST /console/sign-in` (the token checked by the token service, then a new session: the id changes at sign-in)
    /// and `POST /console/sign-out`.
    func addSignInRoutes(to console: RouterGroup<BrokerContext>) {
        console.get("sign-in") { request, _ -> Response in
            if let id = request.cookies[sessionCookie]?.value, let session = await sessions.use(id) {
                if session.user != nil { return .seeOther(Paths.home) }
                return signInPage(session, expired: request.uri.queryParameters["expired"] != nil)
            }
            let session = await sessions.create(for: nil)
            var response = signInPage(session, expired: request.uri.queryParameters["expired"] != nil)
            response.headers[.setCookie] = cookie(session)
            return response
        }
        console.post("sign-in") { request, context -> Response in
            let fields = try? await FormFields(request, context: context)
            guard let id = request.cookies[sessionCookie]?.value, let session = await sessions.use(id), session.user == nil,
                let csrf = fields?["csrf"], csrf.constantTimeEquals(session.csrf)
            else {
                return await refusingSession(.csrfInvalid) {
                    pages.error(ConsoleError.csrfInvalid.status, ConsoleError.csrfInvalid.message, nav: nil)
                }
            }
            let signedIn: SignedIn
            do {
                let token = fields?["token"]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
                let caller = try await broker.tokens.authenticate(token: token, client: context.client)
                let identity = try await broker.identity.identity(caller)
                signedIn = SignedIn(token: token, caller: caller, name: identity.user.name, roles: identity.user.roles)
            } catch {
                let refusal = APIError(error)
                let message =
                    refusal.status == .unauthorized
                    ? "That token was not accepted: check that you pasted all of it, and that it has not expired or been revoked." : refusal.message
                return signInPage(session, expired: false, problem: message, status: refusal.status)
            }
            await sessions.remove(session.id)
            return .seeOther(Paths.home, cookie: cookie(await sessions.create(for: signedIn)))
        }
        console.post(
            "sign-out",
            use: signedIn(.sessionEnd) { _, _, visit in
                await sessions.remove(visit.session.id)
                try await broker.tokens.endSession(visit.caller)
                return .seeOther(Paths.signIn, cookie: clearedCookie)
            })
    }

    private func signInPage(_ session: ConsoleSession, expired: Bool, problem: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        pages.render("sign-in", title: "Sign in", nav: nil, status: status, SignInView(csrf: session.csrf, expired: expired, problem: problem))
    }
}

struct SignInView {
    let csrf: String
    let expired: Bool
    let problem: String?
}
