package sqlstore

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

// Statistics counters and tags are kept by the transactions that write
// events (see store.StatsStore): every event goes through Tx.addEvent,
// which queues its row and adds to the transaction's statBatch; flush
// writes the batch after the rows, as a few upserts for the whole group
// commit, so counters and events commit (or not) together.

// tagRefresh is how often a tag's last-seen time is rewritten: a tag used
// by every message would otherwise be a row every transaction updates.
const tagRefresh = time.Minute

// counterShards spreads a PostgreSQL counter over rows that concurrent
// committers can update without waiting for each other: transactions take
// shards in turn, as many as there are committers, so that those in
// flight together seldom share one. SQLite has one writer and uses shard
// 0 only. CompactStats folds past buckets back into shard 0.
const counterShards = 4

// statBatch is what one transaction's events add.
type statBatch struct {
	counts  map[counterKey]int64
	tags    map[tagKey]*tagSpan
	uniques []uniqueCandidate
}

type counterKey struct {
	domain, tag, res string
	bucket           int64
	name             string
}

type tagKey struct{ domain, tag string }

type tagSpan struct {
	first, last int64
	written     bool
}

type uniqueCandidate struct {
	domain, messageID, recipient, typ string
	tags                              []string
	at                                time.Time
}

// eventFacts are the parts of an event's JSON its counters depend on.
type eventFacts struct {
	Reason   string   `json:"reason"`
	Tags     []string `json:"tags"`
	Envelope struct {
		Transport string `json:"transport"`
	} `json:"envelope"`
	Flags struct {
		IsRouted        bool `json:"is-routed"`
		IsDelayedBounce bool `json:"is-delayed-bounce"`
	} `json:"flags"`
}

// addEvent queues an event row and counts it. Every event insert goes
// through here.
func (t *Tx) addEvent(e store.Event) {
	t.insertEvent(e)
	if t.stats == nil {
		t.stats = &statBatch{counts: map[counterKey]int64{}, tags: map[tagKey]*tagSpan{}}
	}
	t.stats.add(e)
}

// counterName is the counter an event adds to (store.StatsStore).
func counterName(e store.Event, f eventFacts) string {
	switch e.Type {
	case "accepted":
		if f.Flags.IsRouted {
			return "accepted.incoming"
		}
		return "accepted.outgoing"
	case "delivered":
		if f.Envelope.Transport == "http" {
			return "delivered.http"
		}
		return "delivered.smtp"
	case "failed":
		sev, reason := "permanent", cmp.Or(f.Reason, "generic")
		if e.Severity == "temporary" {
			sev = "temporary"
		}
		if f.Flags.IsDelayedBounce {
			reason = "delayed-bounce"
		}
		return "failed." + sev + "." + reason
	}
	return e.Type + ".all"
}

func (b *statBatch) add(e store.Event) {
	var f eventFacts
	if e.Facts != nil {
		f.Reason, f.Tags, f.Envelope.Transport = e.Facts.Reason, e.Facts.Tags, e.Facts.Transport
		f.Flags.IsRouted, f.Flags.IsDelayedBounce = e.Facts.IsRouted, e.Facts.IsDelayedBounce
	} else {
		// Data that is not an event object counts by the record's type alone.
		_ = json.Unmarshal(e.Data, &f)
	}
	var tags []string
	for _, t := range f.Tags {
		if t != "" && !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	b.bump(e.Domain, tags, e.Timestamp, counterName(e, f))
	if e.Type == "opened" || e.Type == "clicked" {
		b.uniques = append(b.uniques, uniqueCandidate{domain: e.Domain, messageID: e.MessageID,
			recipient: e.Recipient, typ: e.Type, tags: tags, at: e.Timestamp})
	}
	at := e.Timestamp.UnixMicro()
	for _, t := range tags {
		k := tagKey{e.Domain, t}
		if s := b.tags[k]; s != nil {
			s.first, s.last = min(s.first, at), max(s.last, at)
		} else {
			b.tags[k] = &tagSpan{first: at, last: at}
		}
	}
}

// bump adds one to name for the domain and each tag, hourly and daily.
func (b *statBatch) bump(domain string, tags []string, at time.Time, name string) {
	for _, res := range []string{store.Hourly, store.Daily} {
		bucket := store.BucketStart(at, res).UnixMicro()
		b.counts[counterKey{domain, "", res, bucket, name}]++
		for _, t := range tags {
			b.counts[counterKey{domain, t, res, bucket, name}]++
		}
	}
}

// flushStats writes the batch: uniques first (they may add counters),
// then tags, then counters.
func (t *Tx) flushStats(ctx context.Context) error {
	b := t.stats
	if b == nil {
		return nil
	}
	// Key order, so that concurrent transactions never wait on each
	// other's unique rows in a cycle.
	slices.SortStableFunc(b.uniques, func(x, y uniqueCandidate) int {
		return cmp.Or(cmp.Compare(x.domain, y.domain), cmp.Compare(x.messageID, y.messageID),
			cmp.Compare(x.recipient, y.recipient), cmp.Compare(x.typ, y.typ))
	})
	for i, u := range b.uniques {
		if i > 0 && sameUnique(b.uniques[i-1], u) {
			continue // the first of these decided; the rest would conflict
		}
		res, err := t.exec(ctx, `INSERT INTO stat_uniques (domain, message_id, recipient, type) VALUES (?, ?, ?, ?)
			ON CONFLICT (domain, message_id, recipient, type) DO NOTHING`, u.domain, u.messageID, u.recipient, u.typ)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			b.bump(u.domain, u.tags, u.at, "unique."+u.typ)
		}
	}
	if err := t.flushTags(ctx, b); err != nil {
		return err
	}
	keys := make([]counterKey, 0, len(b.counts))
	for k := range b.counts {
		keys = append(keys, k)
	}
	// One order for every writer, so PostgreSQL transactions never wait
	// for each other in a cycle.
	slices.SortFunc(keys, func(x, y counterKey) int {
		return cmp.Or(cmp.Compare(x.domain, y.domain), cmp.Compare(x.tag, y.tag), cmp.Compare(x.res, y.res),
			cmp.Compare(x.bucket, y.bucket), cmp.Compare(x.name, y.name))
	})
	shard := 0
	if t.db.dialect.postgres() {
		shard = int(t.db.statShard.Add(1) % counterShards)
	}
	rows := make([][]any, len(keys))
	for i, k := range keys {
		rows[i] = []any{k.domain, k.tag, k.res, k.bucket, k.name, shard, b.counts[k]}
	}
	return t.upsertRows(ctx, "stat_counters", []string{"domain", "tag", "res", "bucket", "name", "shard", "n"}, rows,
		` ON CONFLICT (domain, tag, res, bucket, name, shard) DO UPDATE SET n = stat_counters.n + excluded.n`)
}

func sameUnique(x, y uniqueCandidate) bool {
	return x.domain == y.domain && x.messageID == y.messageID && x.recipient == y.recipient && x.typ == y.typ
}

// flushTags creates the batch's new tags and moves last-seen times on,
// skipping tags this node wrote less than tagRefresh before.
func (t *Tx) flushTags(ctx context.Context, b *statBatch) error {
	var rows [][]any
	keys := make([]tagKey, 0, len(b.tags))
	for k := range b.tags {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y tagKey) int { return cmp.Or(cmp.Compare(x.domain, y.domain), cmp.Compare(x.tag, y.tag)) })
	for _, k := range keys {
		s := b.tags[k]
		if v, ok := t.db.tagsSeen.Load(k); ok && s.last < v.(int64)+tagRefresh.Microseconds() {
			continue
		}
		s.written = true
		rows = append(rows, []any{k.domain, k.tag, "", s.first, s.last})
	}
	return t.upsertRows(ctx, "tags", []string{"domain", "tag", "description", "first_seen", "last_seen"}, rows,
		` ON CONFLICT (domain, tag) DO UPDATE SET
			first_seen = CASE WHEN excluded.first_seen < tags.first_seen THEN excluded.first_seen ELSE tags.first_seen END,
			last_seen = CASE WHEN excluded.last_seen > tags.last_seen THEN excluded.last_seen ELSE tags.last_seen END`)
}

// committed runs once the transaction is durable: only then may the tags
// it wrote be skipped by later transactions.
func (t *Tx) committed() {
	if t.stats == nil {
		return
	}
	for k, s := range t.stats.tags {
		if s.written {
			t.db.tagsSeen.Store(k, s.last)
		}
	}
}

// forgetTags drops what this node remembers of a domain's tags, so that
// they are written again after the domain or a tag was deleted.
func (db *DB) forgetTags(domain, tag string) {
	db.tagsSeen.Range(func(k, _ any) bool {
		if tk := k.(tagKey); tk.domain == domain && (tag == "" || tk.tag == tag) {
			db.tagsSeen.Delete(k)
		}
		return true
	})
}

// StatCounts implements store.StatsStore.
func (r *Regional) StatCounts(ctx context.Context, q store.StatQuery) ([]store.StatCount, error) {
	where := `res = ? AND bucket >= ? AND bucket < ?`
	args := []any{q.Resolution, ts(q.Start), q.End.UnixMicro()}
	if q.Domains != nil {
		if len(q.Domains) == 0 {
			return nil, nil
		}
		where += ` AND domain IN (` + marks(len(q.Domains)) + `)`
		args = append(args, anys(q.Domains)...)
	}
	switch {
	case q.AllTags:
		where += ` AND tag <> ''`
	case q.Tags != nil:
		if len(q.Tags) == 0 {
			return nil, nil
		}
		where += ` AND tag IN (` + marks(len(q.Tags)) + `)`
		args = append(args, anys(q.Tags)...)
	default:
		where += ` AND tag = ''`
	}
	rows, err := r.query(ctx, `SELECT domain, tag, bucket, name, SUM(n) FROM stat_counters WHERE `+where+`
		GROUP BY domain, tag, bucket, name`, args...)
	return scanRows(rows, err, func(s scanner) (store.StatCount, error) {
		var c store.StatCount
		var bucket int64
		err := s.Scan(&c.Domain, &c.Tag, &bucket, &c.Name, &c.N)
		c.Time = fromTS(bucket)
		return c, err
	})
}

const tagSelect = `SELECT domain, tag, description, first_seen, last_seen FROM tags`

func scanTag(s scanner) (store.Tag, error) {
	var t store.Tag
	var first, last int64
	err := s.Scan(&t.Domain, &t.Name, &t.Description, &first, &last)
	t.FirstSeen, t.LastSeen = fromTS(first), fromTS(last)
	return t, err
}

// Tag implements store.StatsStore.
func (r *Regional) Tag(ctx context.Context, domain, tag string) (store.Tag, error) {
	t, err := scanTag(r.queryRow(ctx, tagSelect+` WHERE domain = ? AND tag = ?`, domain, tag))
	return t, notFound(err)
}

// Tags implements store.StatsStore.
func (r *Regional) Tags(ctx context.Context, q store.TagQuery) ([]store.Tag, error) {
	p := page{where: `domain = ?`, args: []any{q.Domain}}
	p.prefix("tag", q.Prefix)
	query, args := p.query(tagSelect, "tag", q.After, q.Before, q.Last, q.Limit)
	rows, err := r.query(ctx, query, args...)
	out, err := scanRows(rows, err, scanTag)
	if q.Before != "" || q.Last {
		slices.Reverse(out)
	}
	return out, err
}

// CountTags implements store.StatsStore.
func (r *Regional) CountTags(ctx context.Context, domain string) (int, error) {
	var n int
	err := r.queryRow(ctx, `SELECT COUNT(*) FROM tags WHERE domain = ?`, domain).Scan(&n)
	return n, err
}

// UpdateTag implements store.StatsStore.
func (r *Regional) UpdateTag(ctx context.Context, domain, tag, description string) error {
	return affected(r.exec(ctx, `UPDATE tags SET description = ? WHERE domain = ? AND tag = ?`, description, domain, tag))
}

// DeleteTag implements store.StatsStore.
func (r *Regional) DeleteTag(ctx context.Context, domain, tag string) error {
	err := r.inTx(ctx, func(tx *Tx) error {
		if err := affected(tx.exec(ctx, `DELETE FROM tags WHERE domain = ? AND tag = ?`, domain, tag)); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `DELETE FROM stat_counters WHERE domain = ? AND tag = ?`, domain, tag)
		return err
	})
	r.forgetTags(domain, tag)
	return err
}

// CompactStats implements store.StatsStore. One statement moves the
// shards' rows into shard 0, so a count committed meanwhile is either
// moved or left for next time, never lost. Hourly buckets are folded two
// hours after they end, daily ones two days after.
func (r *Regional) CompactStats(ctx context.Context, now time.Time) error {
	if !r.dialect.postgres() {
		return nil
	}
	_, err := r.exec(ctx, `WITH moved AS (
			DELETE FROM stat_counters WHERE shard > 0 AND ((res = ? AND bucket < ?) OR (res = ? AND bucket < ?))
			RETURNING domain, tag, res, bucket, name, n)
		INSERT INTO stat_counters (domain, tag, res, bucket, name, shard, n)
		SELECT domain, tag, res, bucket, name, 0, SUM(n) FROM moved GROUP BY domain, tag, res, bucket, name
		ON CONFLICT (domain, tag, res, bucket, name, shard) DO UPDATE SET n = stat_counters.n + excluded.n`,
		store.Hourly, now.Add(-2*time.Hour).UnixMicro(), store.Daily, now.AddDate(0, 0, -2).UnixMicro())
	return err
}
