package mgapi

// SendingQueues is GET /v3/domains/{d}/sending_queues (docs/mailgun-contract.md §2.5).
type SendingQueues struct {
	Regular   SendingQueue `json:"regular"`
	Scheduled SendingQueue `json:"scheduled"`
}

// SendingQueue says whether a queue is held back, until when and why.
type SendingQueue struct {
	IsDisabled bool          `json:"is_disabled"`
	Disabled   QueueDisabled `json:"disabled"`
}

// QueueDisabled is the hold of a queue; both empty when it is not held.
type QueueDisabled struct {
	Until  string `json:"until"`
	Reason string `json:"reason"`
}
