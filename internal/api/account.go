package api

// signingKeyJSON is GET/POST /v5/accounts/http_signing_key (docs/mailgun-contract.md §8.5).
type signingKeyJSON struct {
	Message        string `json:"message,omitempty"`
	HTTPSigningKey string `json:"http_signing_key"`
}

func (s *Server) getSigningKey(c *Ctx) (any, error) {
	c.P.Accept()
	k, err := s.Keys.SigningKey(c.R.Context())
	if err != nil {
		return nil, err
	}
	return signingKeyJSON{HTTPSigningKey: k}, nil
}

func (s *Server) regenerateSigningKey(c *Ctx) (any, error) {
	c.P.Accept()
	k, err := s.Keys.RegenerateSigningKey(c.R.Context())
	if err != nil {
		return nil, err
	}
	return signingKeyJSON{Message: "regenerated HTTP signing key for account", HTTPSigningKey: k}, nil
}
