package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/secret"
	"github.com/salvo-email/salvo/internal/store"
)

// Credentials manages a domain's SMTP credentials (docs/mailgun-contract.md §12.1) and
// checks them for the submission relay. Passwords are kept as bcrypt
// hashes only. A login is a full address of its domain, kept lower case;
// the API also takes the local part alone. postmaster@<domain> is the
// system mailbox: it can be given a new password but not deleted.
//
// Verify is called on every SMTP AUTH. bcrypt makes a check cost tens of
// milliseconds by design, which would cap a relay whose clients open a
// connection per message; so a successful check is remembered for a few
// minutes as an HMAC (under a per-process random key) of the login, the
// stored hash and the password. A changed password changes the stored
// hash, so a remembered check never outlives it.
type Credentials struct {
	Store store.CredentialStore
	Now   func() time.Time
	// BcryptCost is the cost of new hashes (bcrypt.DefaultCost if 0).
	BcryptCost int

	once     sync.Once
	macKey   []byte
	dummy    []byte
	mu       sync.Mutex
	cache    map[[32]byte]time.Time
	inflight map[[32]byte]*verifying
}

// verifying is a bcrypt check in progress; checks of the same login,
// hash and password wait for it instead of running their own (twenty
// clients that connect at once cost one bcrypt, not twenty).
type verifying struct {
	done chan struct{}
	ok   bool
}

// Password length limits (Mailgun: 5–32 characters).
const (
	MinCredentialPassword = 5
	MaxCredentialPassword = 32
	verifyCacheTTL        = 5 * time.Minute
	verifyCacheMax        = 10_000
)

// Credential errors with Mailgun's texts.
var (
	ErrCredentialNotFound = fault.NotFoundf("Credentials not found")
	errPasswordLength     = fault.Invalidf("password should be in range 5-32 characters")
)

func (c *Credentials) init() {
	c.once.Do(func() {
		c.macKey = make([]byte, 32)
		_, _ = rand.Read(c.macKey)
		c.dummy, _ = bcrypt.GenerateFromPassword([]byte(secret.Token(16)), c.cost())
		c.cache = map[[32]byte]time.Time{}
		c.inflight = map[[32]byte]*verifying{}
	})
}

func (c *Credentials) cost() int {
	if c.BcryptCost == 0 {
		return bcrypt.DefaultCost
	}
	return c.BcryptCost
}

// Login turns what the API or an SMTP client gives (a local part, or a full
// address) into the login of domain: a lower-case full address. A full
// address of another domain is refused.
func Login(domain, given string) (string, error) {
	given = strings.ToLower(strings.TrimSpace(given))
	local, dom, full := strings.Cut(given, "@")
	if full && dom != strings.ToLower(domain) {
		return "", fault.Invalidf("login %q is not an address of the domain %s", given, domain)
	}
	if !validLocalPart(local) {
		return "", fault.Invalidf("login %q is not a valid mailbox name", given)
	}
	return local + "@" + strings.ToLower(domain), nil
}

// validLocalPart accepts an RFC 5322 dot-atom of at most 64 characters.
func validLocalPart(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || strings.IndexByte(".!#$%&'*+-/=?^_`{|}~", ch) >= 0 {
			continue
		}
		return false
	}
	return true
}

// IsSystem reports whether login is the domain's system mailbox.
func IsSystem(domain, login string) bool {
	return strings.EqualFold(login, "postmaster@"+domain)
}

// Create stores logins of domain with password, or with a generated
// password each when password is empty. It returns the generated ones by
// login (shown once, never stored). Nothing is stored if any login is bad
// or exists. It returns the logins created (each once) too.
func (c *Credentials) Create(ctx context.Context, domain string, logins []string, password string) ([]string, map[string]string, error) {
	if password != "" && !passwordLengthOK(password) {
		return nil, nil, errPasswordLength
	}
	now := c.Now().UTC()
	generated := map[string]string{}
	seen := map[string]bool{}
	var cs []store.Credential
	for _, given := range logins {
		login, err := Login(domain, given)
		if err != nil {
			return nil, nil, err
		}
		if seen[login] {
			continue
		}
		seen[login] = true
		pw := password
		if pw == "" {
			pw = secret.Token(8) // 16 characters
			generated[login] = pw
		}
		hash, err := bcrypt.GenerateFromPassword([]byte(pw), c.cost())
		if err != nil {
			return nil, nil, err
		}
		cs = append(cs, store.Credential{Domain: strings.ToLower(domain), Login: login, Hash: hash, CreatedAt: now})
	}
	if err := c.Store.CreateCredentials(ctx, cs); errors.Is(err, store.ErrConflict) {
		return nil, nil, fault.Invalidf("Credentials already exist: a login of this request is taken")
	} else if err != nil {
		return nil, nil, err
	}
	created := make([]string, len(cs))
	for i, cr := range cs {
		created[i] = cr.Login
	}
	return created, generated, nil
}

func passwordLengthOK(pw string) bool {
	n := len([]rune(pw))
	return n >= MinCredentialPassword && n <= MaxCredentialPassword
}

// ChangePassword sets a new password for domain's login.
func (c *Credentials) ChangePassword(ctx context.Context, domain, given, password string) error {
	if !passwordLengthOK(password) {
		return errPasswordLength
	}
	login, err := Login(domain, given)
	if err != nil {
		return ErrCredentialNotFound
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), c.cost())
	if err != nil {
		return err
	}
	err = c.Store.SetCredentialHash(ctx, strings.ToLower(domain), login, hash)
	if errors.Is(err, store.ErrNotFound) {
		return ErrCredentialNotFound
	}
	return err
}

// Delete removes domain's login, which must not be the system mailbox.
func (c *Credentials) Delete(ctx context.Context, domain, given string) (string, error) {
	login, err := Login(domain, given)
	if err != nil {
		return "", ErrCredentialNotFound
	}
	if IsSystem(domain, login) {
		return "", fault.Invalidf("Cannot delete system mailbox: %s", login)
	}
	err = c.Store.DeleteCredential(ctx, strings.ToLower(domain), login)
	if errors.Is(err, store.ErrNotFound) {
		return "", ErrCredentialNotFound
	}
	return login, err
}

// DeleteAll removes every credential of domain but its system mailbox.
func (c *Credentials) DeleteAll(ctx context.Context, domain string) (int, error) {
	domain = strings.ToLower(domain)
	return c.Store.DeleteCredentials(ctx, domain, "postmaster@"+domain)
}

// ErrBadCredentials is a failed SMTP authentication: an unknown login or
// a wrong password (callers do not learn which).
var ErrBadCredentials = errors.New("auth: wrong SMTP login or password")

// Verify returns the credential of login if password is its password. An
// unknown login costs as much as a wrong password.
func (c *Credentials) Verify(ctx context.Context, login, password string) (store.Credential, error) {
	c.init()
	login = strings.ToLower(strings.TrimSpace(login))
	cred, err := c.Store.Credential(ctx, login)
	if errors.Is(err, store.ErrNotFound) {
		_ = bcrypt.CompareHashAndPassword(c.dummy, []byte(password))
		return store.Credential{}, ErrBadCredentials
	}
	if err != nil {
		return store.Credential{}, err
	}
	mac := hmac.New(sha256.New, c.macKey)
	for _, p := range [][]byte{[]byte(login), cred.Hash, []byte(password)} {
		mac.Write(p)
		mac.Write([]byte{0})
	}
	var k [32]byte
	copy(k[:], mac.Sum(nil))
	if !c.check(k, cred.Hash, password) {
		return store.Credential{}, ErrBadCredentials
	}
	return cred, nil
}

// check compares password with hash, remembering successes under k and
// sharing a comparison already running for k.
func (c *Credentials) check(k [32]byte, hash []byte, password string) bool {
	c.mu.Lock()
	if until, ok := c.cache[k]; ok && c.Now().Before(until) {
		c.mu.Unlock()
		return true
	}
	if v := c.inflight[k]; v != nil {
		c.mu.Unlock()
		<-v.done
		return v.ok
	}
	v := &verifying{done: make(chan struct{})}
	c.inflight[k] = v
	c.mu.Unlock()
	v.ok = bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
	c.mu.Lock()
	delete(c.inflight, k)
	if v.ok {
		c.rememberLocked(k)
	}
	c.mu.Unlock()
	close(v.done)
	return v.ok
}

func (c *Credentials) rememberLocked(k [32]byte) {
	now := c.Now()
	if len(c.cache) >= verifyCacheMax {
		for key, until := range c.cache {
			if !now.Before(until) {
				delete(c.cache, key)
			}
		}
		if len(c.cache) >= verifyCacheMax {
			clear(c.cache)
		}
	}
	c.cache[k] = now.Add(verifyCacheTTL)
}
