package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/salvo-email/salvo/internal/store"
)

const routeColumns = `id, priority, description, expression, actions, created_at, account_id`

func scanRoute(s scanner) (store.Route, error) {
	var rt store.Route
	var actions string
	var created int64
	if err := s.Scan(&rt.ID, &rt.Priority, &rt.Description, &rt.Expression, &actions, &created, &rt.AccountID); err != nil {
		return rt, err
	}
	rt.CreatedAt = fromTS(created)
	if err := json.Unmarshal([]byte(actions), &rt.Actions); err != nil {
		return rt, fmt.Errorf("route %s: actions: %w", rt.ID, err)
	}
	return rt, nil
}

func actionsJSON(actions []string) string {
	if actions == nil {
		actions = []string{}
	}
	b, _ := json.Marshal(actions) // strings always marshal
	return string(b)
}

// CreateRoute implements store.RouteStore.
func (r *Regional) CreateRoute(ctx context.Context, rt store.Route) error {
	_, err := r.exec(ctx, `INSERT INTO routes (`+routeColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		rt.ID, rt.Priority, rt.Description, rt.Expression, actionsJSON(rt.Actions), ts(rt.CreatedAt), rt.AccountID)
	return err
}

// Route implements store.RouteStore.
func (r *Regional) Route(ctx context.Context, id string) (store.Route, error) {
	rt, err := scanRoute(r.queryRow(ctx, `SELECT `+routeColumns+` FROM routes WHERE id = ?`, id))
	return rt, notFound(err)
}

// Routes implements store.RouteStore.
func (r *Regional) Routes(ctx context.Context, skip, limit int) ([]store.Route, int, error) {
	var total int
	if err := r.queryRow(ctx, `SELECT COUNT(*) FROM routes`).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := r.query(ctx, `SELECT `+routeColumns+` FROM routes ORDER BY priority, created_at, id LIMIT ? OFFSET ?`,
		limit, skip)
	rs, err := scanRows(rows, err, scanRoute)
	return rs, total, err
}

// AccountRoutes implements store.RouteStore.
func (r *Regional) AccountRoutes(ctx context.Context, account string, skip, limit int) ([]store.Route, int, error) {
	var total int
	if err := r.queryRow(ctx, `SELECT COUNT(*) FROM routes WHERE account_id = ?`, account).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := r.query(ctx, `SELECT `+routeColumns+` FROM routes WHERE account_id = ?
		ORDER BY priority, created_at, id LIMIT ? OFFSET ?`, account, limit, skip)
	rs, err := scanRows(rows, err, scanRoute)
	return rs, total, err
}

// UpdateRoute implements store.RouteStore.
func (r *Regional) UpdateRoute(ctx context.Context, rt store.Route) error {
	return affected(r.exec(ctx, `UPDATE routes SET priority = ?, description = ?, expression = ?, actions = ? WHERE id = ?`,
		rt.Priority, rt.Description, rt.Expression, actionsJSON(rt.Actions), rt.ID))
}

// DeleteRoute implements store.RouteStore.
func (r *Regional) DeleteRoute(ctx context.Context, id string) error {
	return affected(r.exec(ctx, `DELETE FROM routes WHERE id = ?`, id))
}
