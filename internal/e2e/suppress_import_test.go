package e2e

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/suppress"
	"github.com/salvo-email/salvo/internal/testutil"
)

// csvUpload is a multipart body with data as the file part "file".
func csvUpload(t *testing.T, data string) testutil.Body {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("file", "bounces.csv")
	must(t, err, "CreateFormFile")
	_, _ = fw.Write([]byte(data))
	must(t, mw.Close(), "multipart close")
	return testutil.Body{Header: http.Header{"Content-Type": {mw.FormDataContentType()}}, Data: buf.Bytes()}
}

// waitImport polls an import's status until it is done or failed.
func waitImport(t *testing.T, ta *testutil.TestApp, statusURL string) suppress.Status {
	t.Helper()
	path := strings.TrimPrefix(statusURL, ta.URL)
	deadline := time.Now().Add(waitTimeout)
	for {
		var st suppress.Status
		ta.Call(t, http.MethodGet, path, ta.Key, testutil.NoBody).Want(t, http.StatusOK).Decode(t, &st)
		if st.State == "done" || st.State == "failed" {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("import still %s after %s: %+v", st.State, waitTimeout, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestBulkImport adds 10,000 bounces as ten JSON batches through
// mailgun-go and 10,000 more from one CSV file (with a few bad rows whose
// errors the import status reports), then lists all of them.
func TestBulkImport(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, e *suppressEnv) {
		if raceEnabled && !e.PG {
			// 20,000 upserts on the embedded SQLite take minutes under
			// -race; plain `go test` runs it, and TestImportOtherLists
			// imports into SQLite under -race too.
			t.Skip("20,000 bounces on the embedded SQLite under -race")
		}
		for batch := range 10 {
			bs := make([]mailgun.Bounce, 1000)
			for i := range bs {
				bs[i] = mailgun.Bounce{Address: fmt.Sprintf("json%05d@example.com", batch*1000+i)}
			}
			must(t, e.MG.AddBounces(ctxb, bs), fmt.Sprintf("AddBounces batch %d", batch))
		}

		var csv strings.Builder
		csv.WriteString("address,code,error,created_at\n")
		for i := range 10000 {
			fmt.Fprintf(&csv, "csv%05d@example.com,%d,\"Mailbox full, try never\",%d\n", i, 550+i%5, 1700000000+i)
			if i == 500 || i == 7000 {
				csv.WriteString("not-an-address,550,,\n")
			}
		}
		ta := e.App
		base := "/v3/" + suppressDomain + "/bounces"
		r := ta.Call(t, http.MethodPost, base+"/import", ta.Key, csvUpload(t, csv.String())).Want(t, http.StatusAccepted)
		var up struct {
			Message   string `json:"message"`
			StatusURL string `json:"status_url"`
		}
		r.Decode(t, &up)
		if up.Message != "file uploaded successfully for processing. standby..." || !strings.HasPrefix(up.StatusURL, ta.URL+base+"/import/") {
			t.Fatalf("upload reply %s", r)
		}
		st := waitImport(t, ta, up.StatusURL)
		if st.State != "done" || st.Rows != 10002 || st.Added != 10000 || st.Failed != 2 || len(st.Errors) != 2 ||
			st.Errors[0].Row != 502 || st.Errors[1].Row != 7003 {
			t.Fatalf("import status %+v; want done, 10002 rows, 10000 added, rows 502 and 7003 refused", st)
		}

		all := allBounces(t, e.MG, 1000)
		if len(all) != 20000 {
			t.Fatalf("ListBounces found %d bounces, want 20000", len(all))
		}
		b, err := e.MG.GetBounce(ctxb, "csv00003@example.com")
		must(t, err, "GetBounce")
		if b.Code != "553" || b.Error != "Mailbox full, try never" || time.Time(b.CreatedAt).Unix() != 1700000003 {
			t.Fatalf("imported bounce = %+v", b)
		}

		ta.Call(t, http.MethodPost, base+"/import", ta.Key, csvUpload(t, "email,when\nx@y.z,1\n")).Want(t, http.StatusBadRequest)
		ta.Call(t, http.MethodPost, base+"/import", ta.Key, testutil.NoBody).Want(t, http.StatusBadRequest)
		var list struct{ Items []suppress.Status }
		ta.Call(t, http.MethodGet, base+"/import", ta.Key, testutil.NoBody).Want(t, http.StatusOK).Decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].State != "done" {
			t.Fatalf("imports = %+v, want the one done", list.Items)
		}
	})
}

// TestImportOtherLists imports unsubscribes (with tags), complaints and
// allowlist rows.
func TestImportOtherLists(t *testing.T) {
	t.Parallel()
	e := startSuppressEnv(t, false)
	ta := e.App
	for list, data := range map[string]string{
		"unsubscribes": "address,tags\nbob@example.com,\"news,promo\"\ncarol@example.com,\n",
		"complaints":   "address\nbob@example.com\n",
		"whitelists":   "address,domain\nbob@example.com,\n,trusted.org\n",
	} {
		var up struct {
			StatusURL string `json:"status_url"`
		}
		ta.Call(t, http.MethodPost, "/v3/"+suppressDomain+"/"+list+"/import", ta.Key, csvUpload(t, data)).
			Want(t, http.StatusAccepted).Decode(t, &up)
		if st := waitImport(t, ta, up.StatusURL); st.State != "done" || st.Failed != 0 {
			t.Fatalf("%s import: %+v", list, st)
		}
	}
	u, err := e.MG.GetUnsubscribe(ctxb, "bob@example.com")
	must(t, err, "GetUnsubscribe")
	if strings.Join(u.Tags, ",") != "news,promo" {
		t.Fatalf("imported unsubscribe %+v", u)
	}
	u, err = e.MG.GetUnsubscribe(ctxb, "carol@example.com")
	must(t, err, "GetUnsubscribe carol")
	if strings.Join(u.Tags, ",") != "*" {
		t.Fatalf("imported unsubscribe without tags %+v, want *", u)
	}
	_, err = e.MG.GetComplaint(ctxb, "bob@example.com")
	must(t, err, "GetComplaint")
	ta.Call(t, http.MethodGet, "/v3/"+suppressDomain+"/whitelists/trusted.org", ta.Key, testutil.NoBody).Want(t, http.StatusOK)
}
