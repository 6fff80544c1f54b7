package app

import (
	"github.com/salvo-email/salvo/internal/auth"
)

// newSMTP builds the SMTP services' parts: SMTP credentials (used by the
// API and the submission relay).
func (a *App) newSMTP() {
	a.Credentials = &auth.Credentials{Store: a.Regional, Now: a.seams.Now, BcryptCost: a.seams.BcryptCost}
}
