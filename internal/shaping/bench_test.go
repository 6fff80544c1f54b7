package shaping

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkShapedMessage is the limiter's cost per message as the engine
// pays it: a connection slot and one token from the buckets of a group
// with rates, from 8 source addresses at once, on all CPUs.
func BenchmarkShapedMessage(b *testing.B) {
	c, err := Parse("[groups.b]\nmx = [\"*.b.test\"]\nmax_connections = 1000000\nmax_messages_per_minute = 1000000000\nmax_messages_per_hour = 1000000000\n", "bench.toml")
	if err != nil {
		b.Fatal(err)
	}
	l := NewLimiter(c, Limits{}, time.Now)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			k, lim := l.Key("mx.b.test", "b.test", fmt.Sprint("192.0.2.", i%8))
			i++
			release, ok := l.Acquire(context.Background(), k, lim, nil)
			if !ok {
				b.Fatal("no slot")
			}
			if ok, _ := l.Take(k, lim); !ok {
				b.Fatal("no token")
			}
			l.Delivered(k, lim)
			release()
		}
	})
}
