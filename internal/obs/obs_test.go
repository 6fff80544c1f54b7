package obs

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestLoggerFormats(t *testing.T) {
	t.Parallel()
	var js bytes.Buffer
	NewLogger(&js, "json", "info").Info("hello", "domain", "example.com")
	var rec map[string]any
	if err := json.Unmarshal(js.Bytes(), &rec); err != nil || rec["msg"] != "hello" || rec["domain"] != "example.com" {
		t.Fatalf("json log line %q: %v", js.String(), err)
	}
	var txt bytes.Buffer
	log := NewLogger(&txt, "text", "warn")
	log.Info("hidden")
	log.Warn("shown", "attempt", 2)
	if strings.Contains(txt.String(), "hidden") || !strings.Contains(txt.String(), "msg=shown attempt=2") {
		t.Fatalf("text log at warn = %q", txt.String())
	}
}

func TestGoRecoversAndCountsPanics(t *testing.T) {
	t.Parallel()
	m := NewMetrics()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	done := make(chan struct{})
	m.Go(log, "worker", func() {
		defer close(done)
		panic("boom")
	})
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("goroutine did not finish")
	}
	for i := 0; m.PanicCount() == 0 && i < 1000; i++ {
		time.Sleep(time.Millisecond)
	}
	if m.PanicCount() != 1 || !strings.Contains(logs.String(), "panic recovered") || !strings.Contains(logs.String(), "where=worker") {
		t.Fatalf("panics %d, logs %q", m.PanicCount(), logs.String())
	}
}
