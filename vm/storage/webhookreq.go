package storage

// WebhookRequest is the HTTP request a call webhook step makes, rendered
// in the step's frame: every token value escaped for where it stands.
type WebhookRequest struct {
	Method      string
	URL         string
	Headers     []Header // the webhook's header clauses, rendered, in order
	Body        string
	ContentType string // of Body; "" when there is none
	// Who and what: the person, the campaign whose step calls, the
	// webhook, and the step's identity (ir.StepBase.ID).
	Person, Workspace, Campaign, Webhook, Step string
	// IdempotencyKey names this call of this step for this person: the
	// same when the same pass is done again (a retry, a batch run resumed,
	// a wait resumed after a crash), different for another call. The host
	// sends it as the Idempotency-Key header.
	IdempotencyKey string
}

// Header is one HTTP header.
type Header struct {
	Name, Value string
}

// WebhookResponse is how a webhook call ended.
type WebhookResponse struct {
	Status  int // the HTTP status; 0 when there was no response
	Body    string
	Headers []Header
	// Error says why the call did not complete (refused by the host's
	// policy, timed out, no connection); the activity logs it.
	Error string
}

// MaxLoggedResponse is how much of a response body the activity keeps.
const MaxLoggedResponse = 1024
