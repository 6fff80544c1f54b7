package store

import (
	"context"
	"time"
)

// Statistics are counters the store keeps itself: every event it writes
// adds one to a counter of its domain (and one per tag of the event) for
// the hour and the day it happened, in the transaction that writes the
// event. Reading stats therefore never scans events.
//
// A counter is named "<event type>.<detail>": accepted.outgoing,
// accepted.incoming, delivered.smtp, delivered.http,
// failed.<severity>.<reason>, and "<type>.all" for the other types. The
// total of a type is the sum of its counters. Engagement events (opened,
// clicked) also count "unique.<type>" the first time a recipient of a
// message does it.

// Counter resolutions.
const (
	Hourly = "hour"
	Daily  = "day"
)

// StatQuery selects counters. Domains nil means every domain; Tags nil
// means domain totals (no tag), otherwise the given tags, or every tag when
// AllTags. Start is inclusive, End exclusive; buckets start at the top of
// the hour or day in UTC.
type StatQuery struct {
	Domains    []string
	Tags       []string
	AllTags    bool
	Resolution string
	Start, End time.Time
}

// StatCount is one counter of one bucket.
type StatCount struct {
	Domain string
	Tag    string
	Time   time.Time
	Name   string
	N      int64
}

// Tag is a tag of a domain, created by its first use.
type Tag struct {
	Domain      string
	Name        string
	Description string
	FirstSeen   time.Time
	LastSeen    time.Time
}

// TagQuery pages through a domain's tags by name, like SuppressionQuery.
type TagQuery struct {
	Domain string
	Prefix string
	After  string
	Before string
	Last   bool
	Limit  int
}

// StatsStore is the tags and statistics part of the regional store.
type StatsStore interface {
	StatCounts(ctx context.Context, q StatQuery) ([]StatCount, error)
	Tag(ctx context.Context, domain, tag string) (Tag, error)
	Tags(ctx context.Context, q TagQuery) ([]Tag, error)
	CountTags(ctx context.Context, domain string) (int, error)
	// UpdateTag sets a tag's description; ErrNotFound when it is unknown.
	UpdateTag(ctx context.Context, domain, tag, description string) error
	// DeleteTag removes a tag and its counters; ErrNotFound when unknown.
	DeleteTag(ctx context.Context, domain, tag string) error
	// CompactStats merges the parts of counters that concurrent writers
	// kept apart, for buckets that ended a while before now, so that reads
	// of the past touch one row per counter. Totals do not change.
	CompactStats(ctx context.Context, now time.Time) error
}

// BucketStart is the start of the hour or day (UTC) holding t.
func BucketStart(t time.Time, res string) time.Time {
	t = t.UTC()
	if res == Daily {
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	return t.Truncate(time.Hour)
}
