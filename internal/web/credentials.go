package web

import (
	"strconv"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/fault"
)

// Domain Settings → SMTP credentials: the logins of a domain for the SMTP
// relay (docs/mailgun-contract.md §12), listed, added, given a new password and deleted
// through auth.Credentials, the service behind
// /v3/domains/{d}/credentials, so logins and passwords are checked as the
// API checks them. A typed password is never shown again; a generated one
// is shown on the one page after its creation (a sealed one-time flash).

func credentialsPath(name string) string { return domainPath(name) + "/settings/smtp-credentials" }

func (s *Server) credentialsRoutes() {
	base := domainsPath + "/{name}/settings/smtp-credentials"
	s.page("GET "+base, s.credentialsPage)
	s.form("POST "+base, s.addCredential)
	s.form("POST "+base+"/password", s.changeCredentialPassword)
	s.form("POST "+base+"/delete", s.deleteCredential)
}

// credentialsPerPage is the length of a page of the credential list.
const credentialsPerPage = 50

// credentialRow is one credential as the page shows it: never its hash.
type credentialRow struct {
	Login     string
	CreatedAt time.Time
	System    bool // postmaster@: it can get a new password but not go
}

// credentialsData is the SMTP credentials tab.
type credentialsData struct {
	domainData
	Credentials []credentialRow
	Total, Skip int
	Prev, Next  int // skip values of the neighbour pages, -1 for none
	// MinPassword and MaxPassword bound a password's length.
	MinPassword, MaxPassword int
	// NewLogin and NewPassword are a credential created with a generated
	// password, on the one page after its creation.
	NewLogin, NewPassword string
	// Server is where to connect (nil when not known).
	Server *SMTPServer
}

func (s *Server) credentialsPage(rq *request) error {
	dd, err := s.domainData(rq, "smtp-credentials")
	if err != nil {
		return err
	}
	skip, _ := strconv.Atoi(rq.r.URL.Query().Get("skip"))
	skip = max(skip, 0)
	cs, total, err := s.Regional.Credentials(rq.r.Context(), dd.Domain.Name, skip, credentialsPerPage)
	if err != nil {
		return err
	}
	d := credentialsData{domainData: dd, Total: total, Skip: skip, Prev: -1, Next: -1,
		MinPassword: auth.MinCredentialPassword, MaxPassword: auth.MaxCredentialPassword,
		NewLogin: rq.flash.Login, NewPassword: rq.flash.Password}
	if s.SMTPServer != nil {
		srv := s.SMTPServer()
		d.Server = &srv
	}
	for _, c := range cs {
		d.Credentials = append(d.Credentials, credentialRow{Login: c.Login, CreatedAt: c.CreatedAt, System: auth.IsSystem(dd.Domain.Name, c.Login)})
	}
	if skip > 0 {
		d.Prev = max(skip-credentialsPerPage, 0)
	}
	if skip+credentialsPerPage < total {
		d.Next = skip + credentialsPerPage
	}
	return s.show(rq, "smtp_credentials", dd.Domain.Name+": SMTP credentials", "domains", d)
}

// credentialForm reads the domain of the path and the form's login.
func (s *Server) credentialForm(rq *request) (domain, login string, res result, err error) {
	d, err := s.domainData(rq, "")
	if err != nil {
		return "", "", result{}, err
	}
	res = result{To: credentialsPath(d.Domain.Name)}
	login = strings.TrimSpace(rq.r.PostFormValue("login"))
	if login == "" {
		return "", "", res, fault.Invalidf("Enter a login: a name such as alice, or alice@%s.", d.Domain.Name)
	}
	return d.Domain.Name, login, res, nil
}

// addCredential creates one login with the typed password or, when the
// form asks for it, a generated one.
func (s *Server) addCredential(rq *request) (result, error) {
	domain, login, res, err := s.credentialForm(rq)
	if err != nil {
		return res, err
	}
	password := ""
	switch rq.r.PostFormValue("password_mode") {
	case "generate":
	case "type":
		if password = rq.r.PostFormValue("password"); password == "" {
			return res, fault.Invalidf("Enter a password, or choose to generate one.")
		}
	default:
		return res, fault.Invalidf("Choose whether to type a password or to generate one.")
	}
	created, generated, err := s.Credentials.Create(rq.r.Context(), domain, []string{login}, password)
	if err != nil {
		return res, err
	}
	s.Log.Info("smtp credential created", "domain", domain, "login", created[0], "generated", password == "", "user_id", rq.ses.User.ID)
	res.Flash.Notice = "SMTP credentials " + created[0] + " created."
	if pw, ok := generated[created[0]]; ok {
		res.Flash.Login, res.Flash.Password = created[0], pw
	}
	return res, nil
}

func (s *Server) changeCredentialPassword(rq *request) (result, error) {
	domain, login, res, err := s.credentialForm(rq)
	if err != nil {
		return res, err
	}
	if err := s.Credentials.ChangePassword(rq.r.Context(), domain, login, rq.r.PostFormValue("password")); err != nil {
		return res, err
	}
	s.Log.Info("smtp credential password changed", "domain", domain, "login", login, "user_id", rq.ses.User.ID)
	res.Flash.Notice = "Password of " + login + " changed."
	return res, nil
}

func (s *Server) deleteCredential(rq *request) (result, error) {
	domain, login, res, err := s.credentialForm(rq)
	if err != nil {
		return res, err
	}
	deleted, err := s.Credentials.Delete(rq.r.Context(), domain, login)
	if err != nil {
		return res, err
	}
	s.Log.Info("smtp credential deleted", "domain", domain, "login", deleted, "user_id", rq.ses.User.ID)
	res.Flash.Notice = "SMTP credentials " + deleted + " deleted."
	return res, nil
}
