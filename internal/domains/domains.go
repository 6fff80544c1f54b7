// Package domains is the domain use case: create, read, update, verify and
// delete sending domains.
//
// A domain's name is global (unique across regions, reserved in the global
// store with its region); everything else about it is region-bound and kept
// in this region's store: settings, DNS check results, the DKIM key (sealed)
// and the postmaster SMTP credential (bcrypt). Create reserves the name
// first and releases it if the regional write fails; a name left reserved by
// a crash in between is reclaimed by the next create of the same name in
// the same region. A domain that lives in another region is "not found"
// here, never read or written.
package domains

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/salvo-email/salvo/internal/dkim"
	"github.com/salvo-email/salvo/internal/dns"
	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/secret"
	"github.com/salvo-email/salvo/internal/store"
)

// Settings are the published host names and defaults of this region.
type Settings struct {
	Region       string
	MXHosts      []string
	TrackingHost string
	SPFInclude   string
	DKIMSelector string
	DKIMKeyBits  int
	// MessageTTL is how long stored messages are kept by default.
	MessageTTL time.Duration
}

// Service implements the domain use case.
type Service struct {
	Global   store.Global
	Regional store.Regional
	Box      *secret.Box
	DNS      dns.Resolver
	KeyGen   dkim.KeyGen
	Now      func() time.Time
	Settings Settings
	// BcryptCost is the cost of SMTP password hashes (bcrypt.DefaultCost if 0).
	BcryptCost int
}

// CreateRequest holds the create fields of docs/mailgun-contract.md §11.1.
type CreateRequest struct {
	Name                       string
	SMTPPassword               string
	SpamAction                 string
	Wildcard                   bool
	ForceDKIMAuthority         bool
	DKIMKeySize                int
	DKIMSelector               string
	IPs                        string
	PoolID                     string
	WebScheme                  string
	WebPrefix                  string
	RequireTLS                 bool
	SkipVerification           bool
	UseAutomaticSenderSecurity bool
	EncryptIncomingMessage     bool
	ArchiveTo                  string
	MessageTTL                 int
	// AccountID is the creating account's global id (empty: the primary
	// account) and Owner its regional owner value ("" for the primary
	// account, else the subaccount's id): see auth.Tenant.
	AccountID string
	Owner     string
}

// DKIMPurpose is the sealing purpose of a domain's DKIM key.
func DKIMPurpose(domain string) string { return "dkim:" + domain }

// Create makes a domain.
func (s *Service) Create(ctx context.Context, req CreateRequest) (store.Domain, error) {
	name, err := NormalizeName(req.Name)
	if err != nil {
		return store.Domain{}, err
	}
	if err := validateCreate(&req, s.Settings); err != nil {
		return store.Domain{}, err
	}
	var postmaster *store.Credential
	now := s.Now().UTC()
	if req.SMTPPassword != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(req.SMTPPassword), s.cost())
		if err != nil {
			return store.Domain{}, err
		}
		postmaster = &store.Credential{Domain: name, Login: "postmaster@" + name, Hash: hash, CreatedAt: now}
	}
	key, err := s.KeyGen(req.DKIMKeySize)
	if err != nil {
		return store.Domain{}, err
	}
	pemKey, err := dkim.MarshalPrivate(key)
	if err != nil {
		return store.Domain{}, err
	}
	public, err := dkim.PublicValue(key)
	if err != nil {
		return store.Domain{}, err
	}
	d := store.Domain{
		ID: secret.Token(12), Name: name, State: store.DomainUnverified, Type: "custom",
		SpamAction: req.SpamAction, Wildcard: req.Wildcard, RequireTLS: req.RequireTLS,
		SkipVerification: req.SkipVerification, WebScheme: req.WebScheme, WebPrefix: req.WebPrefix,
		DKIMSelector: req.DKIMSelector, DKIMKeyBits: req.DKIMKeySize,
		DKIMPrivate: s.Box.Seal(DKIMPurpose(name), pemKey), DKIMPublic: public,
		ForceDKIMAuthority: req.ForceDKIMAuthority, UseAutomaticSenderSecurity: req.UseAutomaticSenderSecurity,
		EncryptIncomingMessage: req.EncryptIncomingMessage, MessageTTL: req.MessageTTL, ArchiveTo: req.ArchiveTo,
		IPs: req.IPs, PoolID: req.PoolID, Tracking: store.DefaultTracking(), CreatedAt: now, UpdatedAt: now,
		AccountID: req.Owner,
	}
	reserved, err := s.reserve(ctx, &d, req.AccountID)
	if err != nil {
		return store.Domain{}, err
	}
	if err := s.Regional.CreateDomain(ctx, d, postmaster); err != nil {
		if reserved {
			_ = s.Global.ReleaseDomain(context.WithoutCancel(ctx), name)
		}
		if errors.Is(err, store.ErrConflict) {
			return store.Domain{}, fault.Invalidf("Domain %s already exists", name)
		}
		return store.Domain{}, err
	}
	return d, nil
}

// reserve claims d's name globally. It reports false when the name was
// already reserved for this region without regional data (a create that
// crashed half-way), which this create then completes.
func (s *Service) reserve(ctx context.Context, d *store.Domain, accountID string) (bool, error) {
	if accountID == "" {
		acct, err := s.Global.Account(ctx)
		if err != nil {
			return false, err
		}
		accountID = acct.ID
	}
	err := s.Global.ReserveDomain(ctx, store.DomainName{
		Name: d.Name, ID: d.ID, AccountID: accountID, Region: s.Settings.Region, CreatedAt: d.CreatedAt,
	})
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, store.ErrConflict) {
		return false, err
	}
	existing, gerr := s.Global.DomainName(ctx, d.Name)
	if gerr != nil {
		return false, gerr
	}
	if existing.Region == s.Settings.Region && existing.AccountID == accountID {
		if _, rerr := s.Regional.Domain(ctx, d.Name); errors.Is(rerr, store.ErrNotFound) {
			d.ID = existing.ID
			return false, nil
		}
		return false, fault.Invalidf("Domain %s already exists", d.Name)
	}
	if existing.AccountID != accountID {
		// Names are unique across the installation's accounts too; whose
		// it is stays unsaid.
		return false, fault.Invalidf("Domain %s already exists", d.Name)
	}
	// Names are unique across regions: say where it is, or the caller
	// looks for it in this region's list in vain.
	return false, fault.Invalidf("Domain %s already exists in the %s region; manage it through that region's API "+
		"(this node serves %s)", d.Name, strings.ToUpper(existing.Region), strings.ToUpper(s.Settings.Region))
}

func (s *Service) cost() int {
	if s.BcryptCost == 0 {
		return bcrypt.DefaultCost
	}
	return s.BcryptCost
}

// Get returns a domain of this region, or a 404.
func (s *Service) Get(ctx context.Context, name string) (store.Domain, error) {
	d, err := s.Regional.Domain(ctx, strings.ToLower(name))
	if errors.Is(err, store.ErrNotFound) {
		return d, fault.NotFoundf("Domain not found")
	}
	return d, err
}

// List returns a page of this region's domains.
func (s *Service) List(ctx context.Context, skip, limit int) ([]store.Domain, int, error) {
	return s.Regional.Domains(ctx, skip, limit)
}

// AccountList returns a page of this region's domains owned by owner (""
// for the primary account).
func (s *Service) AccountList(ctx context.Context, owner string, skip, limit int) ([]store.Domain, int, error) {
	return s.Regional.AccountDomains(ctx, owner, skip, limit)
}

// Delete removes a domain, its regional data and its global name.
func (s *Service) Delete(ctx context.Context, name string) error {
	name = strings.ToLower(name)
	err := s.Regional.DeleteDomain(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		// A name reserved for this region without regional data is an
		// orphan of a crashed create: release it too.
		g, gerr := s.Global.DomainName(ctx, name)
		if gerr != nil || g.Region != s.Settings.Region {
			return fault.NotFoundf("Domain not found")
		}
	} else if err != nil {
		return err
	}
	if err := s.Global.ReleaseDomain(ctx, name); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("release domain name: %w", err)
	}
	return nil
}

// UpdateRequest holds optional new values; nil leaves a field alone.
type UpdateRequest struct {
	SpamAction                 *string
	Wildcard                   *bool
	WebScheme                  *string
	WebPrefix                  *string
	RequireTLS                 *bool
	SkipVerification           *bool
	UseAutomaticSenderSecurity *bool
	EncryptIncomingMessage     *bool
	ArchiveTo                  *string
	MessageTTL                 *int
	MailFromHost               *string
	DKIMSelector               *string
	// Tracking replaces the open, click and unsubscribe settings.
	Tracking *store.Tracking
}

// Update changes a domain's settings.
func (s *Service) Update(ctx context.Context, name string, u UpdateRequest) (store.Domain, error) {
	d, err := s.Get(ctx, name)
	if err != nil {
		return d, err
	}
	if err := applyUpdate(&d, u); err != nil {
		return d, err
	}
	d.UpdatedAt = s.Now().UTC()
	if err := s.Regional.UpdateDomain(ctx, d); err != nil {
		return d, err
	}
	return d, nil
}

func applyUpdate(d *store.Domain, u UpdateRequest) error {
	if u.SpamAction != nil {
		if err := checkSpamAction(*u.SpamAction); err != nil {
			return err
		}
		d.SpamAction = *u.SpamAction
	}
	if u.WebScheme != nil {
		if err := checkWebScheme(*u.WebScheme); err != nil {
			return err
		}
		d.WebScheme = *u.WebScheme
	}
	if u.WebPrefix != nil {
		if err := checkLabel("web_prefix", *u.WebPrefix); err != nil {
			return err
		}
		d.WebPrefix = strings.ToLower(*u.WebPrefix)
	}
	if u.DKIMSelector != nil {
		if err := checkLabel("dkim_selector", *u.DKIMSelector); err != nil {
			return err
		}
		d.DKIMSelector = strings.ToLower(*u.DKIMSelector)
	}
	if u.MailFromHost != nil {
		if *u.MailFromHost != "" {
			if _, err := NormalizeName(*u.MailFromHost); err != nil {
				return fault.Invalidf("mailfrom_host %q is not a valid host name", *u.MailFromHost)
			}
		}
		d.MailFromHost = strings.ToLower(*u.MailFromHost)
	}
	if u.MessageTTL != nil {
		if *u.MessageTTL < 0 {
			return fault.Invalidf("message_ttl must not be negative")
		}
		d.MessageTTL = *u.MessageTTL
	}
	setBool := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	setBool(&d.Wildcard, u.Wildcard)
	setBool(&d.RequireTLS, u.RequireTLS)
	setBool(&d.SkipVerification, u.SkipVerification)
	setBool(&d.UseAutomaticSenderSecurity, u.UseAutomaticSenderSecurity)
	setBool(&d.EncryptIncomingMessage, u.EncryptIncomingMessage)
	if u.ArchiveTo != nil {
		d.ArchiveTo = *u.ArchiveTo
	}
	if u.Tracking != nil {
		d.Tracking = *u.Tracking
	}
	return nil
}

func validateCreate(req *CreateRequest, set Settings) error {
	if req.SMTPPassword != "" && (len(req.SMTPPassword) < 5 || len(req.SMTPPassword) > 32) {
		return fault.Invalidf("Password is too short. It must be between 5 and 32 characters.")
	}
	if req.SpamAction == "" {
		req.SpamAction = "disabled"
	}
	if err := checkSpamAction(req.SpamAction); err != nil {
		return err
	}
	if req.WebScheme == "" {
		req.WebScheme = "http"
	}
	if err := checkWebScheme(req.WebScheme); err != nil {
		return err
	}
	if req.WebPrefix == "" {
		req.WebPrefix = "email"
	}
	if err := checkLabel("web_prefix", req.WebPrefix); err != nil {
		return err
	}
	req.WebPrefix = strings.ToLower(req.WebPrefix)
	if req.DKIMSelector == "" {
		req.DKIMSelector = set.DKIMSelector
	}
	if err := checkLabel("dkim_selector", req.DKIMSelector); err != nil {
		return err
	}
	req.DKIMSelector = strings.ToLower(req.DKIMSelector)
	if req.DKIMKeySize == 0 {
		req.DKIMKeySize = set.DKIMKeyBits
	}
	if req.DKIMKeySize != 1024 && req.DKIMKeySize != 2048 {
		return fault.Invalidf("dkim_key_size must be 1024 or 2048")
	}
	if req.MessageTTL < 0 {
		return fault.Invalidf("message_ttl must not be negative")
	}
	if req.MessageTTL == 0 {
		req.MessageTTL = int(set.MessageTTL / time.Second)
	}
	return nil
}

func checkSpamAction(s string) error {
	switch s {
	case "disabled", "block", "tag", "delete":
		return nil
	}
	return fault.Invalidf("spam_action must be one of disabled, block or tag, not %q", s)
}

func checkWebScheme(s string) error {
	if s == "http" || s == "https" {
		return nil
	}
	return fault.Invalidf("web_scheme must be http or https, not %q", s)
}

func checkLabel(field, s string) error {
	if !validLabel(strings.ToLower(s)) {
		return fault.Invalidf("%s must be a single DNS label (letters, digits, hyphens), not %q", field, s)
	}
	return nil
}

// NormalizeName lower-cases a domain name and checks it is a host name of
// at least two labels (RFC 1035 §2.3.1 letters, digits and hyphens; IDNs in
// their xn-- form).
func NormalizeName(s string) (string, error) {
	name := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
	if name == "" {
		return "", fault.Invalidf("Missing parameter 'name'")
	}
	labels := strings.Split(name, ".")
	ok := len(name) <= 253 && len(labels) >= 2
	for _, l := range labels {
		ok = ok && validLabel(l)
	}
	if ok {
		last := labels[len(labels)-1]
		ok = strings.TrimLeft(last, "0123456789") != "" // not an IP address
	}
	if !ok {
		return "", fault.Invalidf("%q is not a valid domain name", s)
	}
	return name, nil
}

func validLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
