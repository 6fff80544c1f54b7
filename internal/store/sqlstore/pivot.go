package sqlstore

import (
	"slices"

	"github.com/salvo-email/salvo/internal/store"
)

// pivotPage completes a query over rows ordered by the unique column col
// for a store.PivotQuery: where holds the query's own conditions (none
// empty), args their values. It returns the full query text and
// arguments; rows read with it must go through ascending.
func pivotPage(selectFrom, where, col string, args []any, q store.PivotQuery) (string, []any) {
	cond := where
	if q.Pivot != "" {
		op := " > ?"
		if q.Backward {
			op = " < ?"
		}
		if cond != "" {
			cond += " AND "
		}
		cond += col + op
		args = append(args, q.Pivot)
	}
	query := selectFrom
	if cond != "" {
		query += " WHERE " + cond
	}
	dir := " ASC"
	if q.Backward {
		dir = " DESC"
	}
	return query + " ORDER BY " + col + dir + " LIMIT ?", append(args, q.Limit)
}

// ascending puts the rows of a pivot page in ascending order.
func ascending[T any](rows []T, q store.PivotQuery) []T {
	if q.Backward {
		slices.Reverse(rows)
	}
	return rows
}
