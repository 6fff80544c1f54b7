package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/salvo-email/salvo/internal/store"
)

var _ store.TemplateStore = (*Regional)(nil)

const (
	templateCols = `domain, name, id, description, created_by, created_at`
	versionCols  = `domain, template, tag, id, engine, comment, content, headers, active, created_at`
)

func scanTemplate(s scanner) (store.Template, error) {
	var t store.Template
	var created int64
	err := s.Scan(&t.Domain, &t.Name, &t.ID, &t.Description, &t.CreatedBy, &created)
	t.CreatedAt = fromTS(created)
	return t, err
}

func scanVersion(s scanner) (store.TemplateVersion, error) {
	var v store.TemplateVersion
	var headers string
	var created int64
	err := s.Scan(&v.Domain, &v.Template, &v.Tag, &v.ID, &v.Engine, &v.Comment, &v.Content, &headers, &v.Active, &created)
	if err != nil {
		return v, err
	}
	v.CreatedAt = fromTS(created)
	if err := json.Unmarshal([]byte(headers), &v.Headers); err != nil {
		return v, fmt.Errorf("template %s version %s: headers: %w", v.Template, v.Tag, err)
	}
	return v, nil
}

func headersJSON(h map[string]string) string {
	if len(h) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(h)
	return string(b)
}

func insertVersion(ctx context.Context, tx *Tx, v store.TemplateVersion) error {
	_, err := tx.exec(ctx, `INSERT INTO template_versions (`+versionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		v.Domain, v.Template, v.Tag, v.ID, v.Engine, v.Comment, v.Content, headersJSON(v.Headers), v.Active, ts(v.CreatedAt))
	return err
}

func count(ctx context.Context, tx *Tx, query string, args ...any) (int, error) {
	var n int
	err := tx.queryRow(ctx, query, args...).Scan(&n)
	return n, err
}

// CreateTemplate implements store.TemplateStore.
func (r *Regional) CreateTemplate(ctx context.Context, t store.Template, first *store.TemplateVersion, maxPerDomain int) error {
	return r.inTx(ctx, func(tx *Tx) error {
		n, err := count(ctx, tx, `SELECT COUNT(*) FROM templates WHERE domain = ?`, t.Domain)
		if err != nil {
			return err
		}
		if maxPerDomain > 0 && n >= maxPerDomain {
			return store.ErrLimit
		}
		if _, err := tx.exec(ctx, `INSERT INTO templates (`+templateCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
			t.Domain, t.Name, t.ID, t.Description, t.CreatedBy, ts(t.CreatedAt)); err != nil {
			return err
		}
		if first == nil {
			return nil
		}
		v := *first
		v.Active = true
		return insertVersion(ctx, tx, v)
	})
}

// Template implements store.TemplateStore.
func (r *Regional) Template(ctx context.Context, domain, name string) (store.Template, error) {
	t, err := scanTemplate(r.queryRow(ctx, `SELECT `+templateCols+` FROM templates WHERE domain = ? AND name = ?`, domain, name))
	return t, notFound(err)
}

// Templates implements store.TemplateStore.
func (r *Regional) Templates(ctx context.Context, domain string, q store.PivotQuery) ([]store.Template, error) {
	query, args := pivotPage(`SELECT `+templateCols+` FROM templates`, "domain = ?", "name", []any{domain}, q)
	rows, err := r.query(ctx, query, args...)
	out, err := scanRows(rows, err, scanTemplate)
	return ascending(out, q), err
}

// UpdateTemplateDescription implements store.TemplateStore.
func (r *Regional) UpdateTemplateDescription(ctx context.Context, domain, name, description string) error {
	return affected(r.exec(ctx, `UPDATE templates SET description = ? WHERE domain = ? AND name = ?`, description, domain, name))
}

// DeleteTemplate implements store.TemplateStore.
func (r *Regional) DeleteTemplate(ctx context.Context, domain, name string) error {
	return r.inTx(ctx, func(tx *Tx) error {
		if err := affected(tx.exec(ctx, `DELETE FROM templates WHERE domain = ? AND name = ?`, domain, name)); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `DELETE FROM template_versions WHERE domain = ? AND template = ?`, domain, name)
		return err
	})
}

// DeleteTemplates implements store.TemplateStore.
func (r *Regional) DeleteTemplates(ctx context.Context, domain string) error {
	return r.inTx(ctx, func(tx *Tx) error {
		for _, table := range []string{"templates", "template_versions"} {
			if _, err := tx.exec(ctx, `DELETE FROM `+table+` WHERE domain = ?`, domain); err != nil {
				return err
			}
		}
		return nil
	})
}

// AddTemplateVersion implements store.TemplateStore.
func (r *Regional) AddTemplateVersion(ctx context.Context, v store.TemplateVersion, maxPerTemplate int) error {
	return r.inTx(ctx, func(tx *Tx) error {
		if n, err := count(ctx, tx, `SELECT COUNT(*) FROM templates WHERE domain = ? AND name = ?`, v.Domain, v.Template); err != nil {
			return err
		} else if n == 0 {
			return store.ErrNotFound
		}
		n, err := count(ctx, tx, `SELECT COUNT(*) FROM template_versions WHERE domain = ? AND template = ?`, v.Domain, v.Template)
		if err != nil {
			return err
		}
		if maxPerTemplate > 0 && n >= maxPerTemplate {
			return store.ErrLimit
		}
		v.Active = v.Active || n == 0
		if v.Active {
			if err := deactivate(ctx, tx, v.Domain, v.Template); err != nil {
				return err
			}
		}
		return insertVersion(ctx, tx, v)
	})
}

func deactivate(ctx context.Context, tx *Tx, domain, name string) error {
	_, err := tx.exec(ctx, `UPDATE template_versions SET active = ? WHERE domain = ? AND template = ? AND active = ?`,
		false, domain, name, true)
	return err
}

// TemplateVersion implements store.TemplateStore.
func (r *Regional) TemplateVersion(ctx context.Context, domain, name, tag string) (store.TemplateVersion, error) {
	v, err := scanVersion(r.queryRow(ctx, `SELECT `+versionCols+` FROM template_versions
		WHERE domain = ? AND template = ? AND tag = ?`, domain, name, tag))
	return v, notFound(err)
}

// ActiveTemplateVersion implements store.TemplateStore.
func (r *Regional) ActiveTemplateVersion(ctx context.Context, domain, name string) (store.TemplateVersion, error) {
	v, err := scanVersion(r.queryRow(ctx, `SELECT `+versionCols+` FROM template_versions
		WHERE domain = ? AND template = ? AND active = ?`, domain, name, true))
	return v, notFound(err)
}

// TemplateVersions implements store.TemplateStore.
func (r *Regional) TemplateVersions(ctx context.Context, domain, name string, q store.PivotQuery) ([]store.TemplateVersion, error) {
	query, args := pivotPage(`SELECT `+versionCols+` FROM template_versions`, "domain = ? AND template = ?", "tag",
		[]any{domain, name}, q)
	rows, err := r.query(ctx, query, args...)
	out, err := scanRows(rows, err, scanVersion)
	return ascending(out, q), err
}

// UpdateTemplateVersion implements store.TemplateStore.
func (r *Regional) UpdateTemplateVersion(ctx context.Context, v store.TemplateVersion) error {
	return r.inTx(ctx, func(tx *Tx) error {
		if n, err := count(ctx, tx, `SELECT COUNT(*) FROM template_versions WHERE domain = ? AND template = ? AND tag = ?`,
			v.Domain, v.Template, v.Tag); err != nil {
			return err
		} else if n == 0 {
			return store.ErrNotFound
		}
		if v.Active {
			if err := deactivate(ctx, tx, v.Domain, v.Template); err != nil {
				return err
			}
		}
		_, err := tx.exec(ctx, `UPDATE template_versions SET comment = ?, content = ?, headers = ?,
			active = (active OR ?) WHERE domain = ? AND template = ? AND tag = ?`,
			v.Comment, v.Content, headersJSON(v.Headers), v.Active, v.Domain, v.Template, v.Tag)
		return err
	})
}

// DeleteTemplateVersion implements store.TemplateStore.
func (r *Regional) DeleteTemplateVersion(ctx context.Context, domain, name, tag string) error {
	return affected(r.exec(ctx, `DELETE FROM template_versions WHERE domain = ? AND template = ? AND tag = ?`,
		domain, name, tag))
}
