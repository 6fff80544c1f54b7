package webhooks

import (
	"maps"
	"slices"

	"github.com/salvo-email/salvo/internal/store"
)

// The edits below are what the webhook endpoints do to a domain's set
// (store.UpdateWebhooks runs them in its transaction). Each returns a new
// set and never changes the one it is given; a refusal is a *fault.Error
// (fault.Invalid, fault.Conflict, fault.NotFound) with Mailgun's text and key.

// Create adds kind with urls (v3 POST); the kind must not exist yet.
func Create(set store.WebhookSet, kind string, urls []string) (store.WebhookSet, error) {
	if err := checkKind(kind); err != nil {
		return nil, err
	}
	if len(set[kind]) > 0 {
		return nil, reason("Webhook '%s' already exists; change its URLs with PUT /v3/domains/<domain>/webhooks/%s", kind, kind)
	}
	return Replace(set, kind, urls)
}

// Replace sets kind's urls (v3 PUT when the kind exists, and Create).
func Replace(set store.WebhookSet, kind string, urls []string) (store.WebhookSet, error) {
	if err := checkURLs(urls); err != nil {
		return nil, err
	}
	out := clone(set)
	out[kind] = slices.Clone(urls)
	return out, nil
}

// Update replaces the urls of an existing kind (v3 PUT).
func Update(set store.WebhookSet, kind string, urls []string) (store.WebhookSet, error) {
	if err := checkKind(kind); err != nil {
		return nil, err
	}
	if len(set[kind]) == 0 {
		return nil, ErrNotFound
	}
	return Replace(set, kind, urls)
}

// Delete removes a kind (v3 DELETE).
func Delete(set store.WebhookSet, kind string) (store.WebhookSet, error) {
	if err := checkKind(kind); err != nil {
		return nil, err
	}
	if len(set[kind]) == 0 {
		return nil, ErrNotFound
	}
	out := clone(set)
	delete(out, kind)
	return out, nil
}

// AddURL subscribes u to kinds (v4 POST); u must not have any of them yet.
func AddURL(set store.WebhookSet, u string, kinds []string) (store.WebhookSet, error) {
	if err := checkURLKinds(u, kinds); err != nil {
		return nil, err
	}
	out := clone(set)
	for _, k := range kinds {
		if slices.Contains(out[k], u) {
			return nil, reason("Webhook for event type '%s' with URL '%s' already exists", k, u)
		}
		if len(out[k]) >= MaxURLs {
			return nil, reason("event type '%s' already has %d URLs, the most it takes", k, MaxURLs)
		}
		out[k] = append(slices.Clone(out[k]), u)
	}
	return out, nil
}

// SetURL makes kinds exactly the kinds u is subscribed to (v4 PUT); u must
// have some already.
func SetURL(set store.WebhookSet, u string, kinds []string) (store.WebhookSet, error) {
	if err := checkURLKinds(u, kinds); err != nil {
		return nil, err
	}
	out, found := without(set, u)
	if !found {
		return nil, ErrNotFound
	}
	return AddURL(out, u, kinds)
}

// RemoveURLs removes urls from every kind (v4 DELETE); at least one of
// them must be there.
func RemoveURLs(set store.WebhookSet, urls []string) (store.WebhookSet, error) {
	out, any := set, false
	for _, u := range urls {
		var found bool
		out, found = without(out, u)
		any = any || found
	}
	if !any {
		return nil, ErrNotFound
	}
	return out, nil
}

func clone(set store.WebhookSet) store.WebhookSet {
	if set == nil {
		return store.WebhookSet{}
	}
	return maps.Clone(set)
}

// without returns set without u, and whether u was in it.
func without(set store.WebhookSet, u string) (store.WebhookSet, bool) {
	out, found := store.WebhookSet{}, false
	for k, urls := range set {
		rest := slices.DeleteFunc(slices.Clone(urls), func(v string) bool { return v == u })
		found = found || len(rest) < len(urls)
		if len(rest) > 0 {
			out[k] = rest
		}
	}
	return out, found
}

func checkKind(kind string) error {
	if !ValidKind(kind) {
		return reason("'%s' is not a webhook type; valid types are accepted, delivered, opened, clicked, unsubscribed, complained, permanent_fail and temporary_fail", kind)
	}
	return nil
}

func checkURLs(urls []string) error {
	if len(urls) > MaxURLs {
		return reason("a webhook takes at most %d URLs, got %d", MaxURLs, len(urls))
	}
	return checkEach(urls, ValidateURL, "%s is given twice")
}

func checkURLKinds(u string, kinds []string) error {
	if err := ValidateURL(u); err != nil {
		return err
	}
	return checkEach(kinds, checkKind, "event type '%s' is given twice")
}

// checkEach checks every value of list and refuses one given twice.
func checkEach(list []string, check func(string) error, twice string) error {
	for i, v := range list {
		if err := check(v); err != nil {
			return err
		}
		if slices.Contains(list[:i], v) {
			return reason(twice, v)
		}
	}
	return nil
}
