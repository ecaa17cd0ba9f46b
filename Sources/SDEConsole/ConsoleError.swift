import HTTPTypes

/// A refusal the console makes itself (the services' refusals arrive as `ServiceError`): a status, the reason its audit
/// event records, and a message for the page.
struct ConsoleError: Error, Sendable {
    private enum Code: Sendable {
        case badForm, csrfInvalid, notFound
    }

    private let code: Code

    /// The form could not be read (not URL-encoded, a field twice, a field that does not decode).
    static let badForm = ConsoleError(code: .badForm)
    /// A form came back without the anti-forgery token of the session it was served in.
    static let csrfInvalid = ConsoleError(code: .csrfInvalid)
    /// There is no such page.
    static let notFound = ConsoleError(code: .notFound)

    var status: HTTPResponse.Status {
        switch code {
        case .badForm: .badRequest
        case .csrfInvalid: .forbidden
        case .notFound: .notFound
        }
    }

    /// The reason recorded in the audit event.
    var reason: String {
        switch code {
        case .badForm: "form_invalid"
        case .csrfInvalid: "csrf_invalid"
        case .notFound: "not_found"
        }
    }

    var message: String {
        switch code {
        case .badForm: "The form could not be read. Go back, reload the page and try again."
        case .csrfInvalid: "This form has expired or did not come from this console. Reload the page and submit it again."
        case .notFound: "There is no such page."
        }
    }
}
