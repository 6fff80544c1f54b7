package lists

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/store"
)

// MemberInput is a member to add or a partial update; nil fields are
// left as they are (defaults on add: subscribed, no vars).
type MemberInput struct {
	Address    *string
	Name       *string
	Vars       *string // JSON object text; "" or "null" for none
	Subscribed *bool
}

// ParseVars reads a member's vars: a JSON object, or ""/"null" for none.
func ParseVars(raw string) (map[string]any, error) {
	t := strings.TrimSpace(raw)
	if t == "" || t == "null" {
		return map[string]any{}, nil
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(t), &v); err != nil || v == nil {
		return nil, fault.Invalidf("'vars' parameter must be a valid JSON object")
	}
	return v, nil
}

func applyMember(m *store.Member, in MemberInput) error {
	if in.Address != nil {
		addr, name, err := ParseAddress(*in.Address, "address")
		if err != nil {
			return err
		}
		m.Address = addr
		if in.Name == nil && name != "" {
			m.Name = name
		}
	}
	if in.Name != nil {
		m.Name = *in.Name
	}
	if in.Vars != nil {
		v, err := ParseVars(*in.Vars)
		if err != nil {
			return err
		}
		m.Vars = v
	}
	if in.Subscribed != nil {
		m.Subscribed = *in.Subscribed
	}
	return nil
}

// AddMember adds a member (replacing an existing one with upsert).
func (s *Service) AddMember(ctx context.Context, list string, in MemberInput, upsert bool) (store.Member, error) {
	if in.Address == nil {
		return store.Member{}, fault.Invalidf("Missing mandatory parameter: address")
	}
	l, err := s.Get(ctx, list)
	if err != nil {
		return store.Member{}, err
	}
	m := store.Member{List: l.Address, Vars: map[string]any{}, Subscribed: true}
	if err := applyMember(&m, in); err != nil {
		return m, err
	}
	err = s.Store.AddMember(ctx, m, upsert)
	switch {
	case errors.Is(err, store.ErrConflict):
		return m, fault.Invalidf("Address already exists '%s'", m.Address)
	case errors.Is(err, store.ErrNotFound):
		return m, ListNotFound(l.Address)
	}
	return m, err
}

// Member returns one member.
func (s *Service) Member(ctx context.Context, list, address string) (store.Member, error) {
	l, err := s.Get(ctx, list)
	if err != nil {
		return store.Member{}, err
	}
	addr := strings.ToLower(strings.TrimSpace(address))
	m, err := s.Store.Member(ctx, l.Address, addr)
	if errors.Is(err, store.ErrNotFound) {
		return m, memberNotFound(l.Address, addr)
	}
	return m, err
}

// UpdateMember changes a member (its address too).
func (s *Service) UpdateMember(ctx context.Context, list, address string, in MemberInput) (store.Member, error) {
	m, err := s.Member(ctx, list, address)
	if err != nil {
		return m, err
	}
	old := m.Address
	if err := applyMember(&m, in); err != nil {
		return m, err
	}
	err = s.Store.UpdateMember(ctx, old, m)
	switch {
	case errors.Is(err, store.ErrConflict):
		return m, fault.Invalidf("Address already exists '%s'", m.Address)
	case errors.Is(err, store.ErrNotFound):
		return m, memberNotFound(m.List, old)
	}
	return m, err
}

// DeleteMember removes a member.
func (s *Service) DeleteMember(ctx context.Context, list, address string) (string, error) {
	m, err := s.Member(ctx, list, address)
	if err != nil {
		return "", err
	}
	if err := s.Store.DeleteMember(ctx, m.List, m.Address); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return "", memberNotFound(m.List, m.Address)
		}
		return "", err
	}
	return m.Address, nil
}

// MembersPage returns a pivot page of members.
func (s *Service) MembersPage(ctx context.Context, list string, f store.MemberFilter, q store.PivotQuery) ([]store.Member, error) {
	l, err := s.Get(ctx, list)
	if err != nil {
		return nil, err
	}
	q.Pivot = strings.ToLower(q.Pivot)
	return s.Store.MembersPage(ctx, l.Address, f, q)
}

// MembersOffset returns skip/limit members with the total.
func (s *Service) MembersOffset(ctx context.Context, list string, f store.MemberFilter, skip, limit int) ([]store.Member, int, error) {
	l, err := s.Get(ctx, list)
	if err != nil {
		return nil, 0, err
	}
	return s.Store.MembersOffset(ctx, l.Address, f, skip, limit)
}
