package web

import (
	"encoding/json"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/lists"
	"github.com/salvo-email/salvo/internal/store"
)

// A mailing list's members: added, edited, removed and uploaded as CSV
// (see lists.go for the pages around them).

// memberInput reads the member form: address, name, vars (a JSON object)
// and subscribed (a check box that is absent when unchecked, so the form
// says it has one with "subscribed_field").
func memberInput(rq *request, withAddress bool) lists.MemberInput {
	f := rq.r.PostForm
	var in lists.MemberInput
	if withAddress {
		a := strings.TrimSpace(f.Get("address"))
		in.Address = &a
	}
	name := strings.TrimSpace(f.Get("name"))
	in.Name = &name
	vars := strings.TrimSpace(f.Get("vars"))
	in.Vars = &vars
	sub := f.Get("subscribed") == "on"
	in.Subscribed = &sub
	return in
}

func (s *Server) addMember(rq *request) (result, error) {
	l := rq.r.PathValue("list")
	res := result{To: mlistPath(l)}
	m, err := s.Lists.AddMember(rq.r.Context(), l, memberInput(rq, true), rq.r.PostFormValue("upsert") == "on")
	if err != nil {
		return res, err
	}
	s.Log.Info("list member added", "list", l, "user_id", rq.ses.User.ID)
	res.Flash.Notice = m.Address + " was added to " + l + "."
	return res, nil
}

// memberData is the page of one member.
type memberData struct {
	List   string
	Member store.Member
	Vars   string // the member's vars as JSON
}

func (s *Server) memberPage(rq *request) error {
	l := rq.r.PathValue("list")
	m, err := s.Lists.Member(rq.r.Context(), l, rq.r.PathValue("member"))
	if err != nil {
		return err
	}
	d := memberData{List: l, Member: m, Vars: "{}"}
	if len(m.Vars) > 0 {
		b, err := json.MarshalIndent(m.Vars, "", "  ")
		if err != nil {
			return err
		}
		d.Vars = string(b)
	}
	return s.show(rq, "list_member", m.Address+" in "+l, "lists", d)
}

func memberPath(list, member string) string {
	return mlistPath(list) + "/members/" + url.PathEscape(member)
}

func (s *Server) updateMember(rq *request) (result, error) {
	l, addr := rq.r.PathValue("list"), rq.r.PathValue("member")
	res := result{To: memberPath(l, addr)}
	m, err := s.Lists.UpdateMember(rq.r.Context(), l, addr, memberInput(rq, false))
	if err != nil {
		return res, err
	}
	s.Log.Info("list member updated", "list", l, "user_id", rq.ses.User.ID)
	return result{To: mlistPath(l), Flash: flash{Notice: m.Address + " was saved."}}, nil
}

func (s *Server) deleteMember(rq *request) (result, error) {
	l, addr := rq.r.PathValue("list"), rq.r.PathValue("member")
	res := result{To: mlistPath(l)}
	gone, err := s.Lists.DeleteMember(rq.r.Context(), l, addr)
	if err != nil {
		return res, err
	}
	s.Log.Info("list member removed", "list", l, "user_id", rq.ses.User.ID)
	res.Flash.Notice = gone + " was removed from " + l + "."
	return res, nil
}

// uploadMembers reads a members CSV (address, name, vars, subscribed
// columns, as POST /v3/lists/{list}/members.csv takes) and adds its rows;
// a large file is written in the background and its page follows it.
func (s *Server) uploadMembers(rq *request) (result, error) {
	l := rq.r.PathValue("list")
	res := result{To: mlistPath(l)}
	mf := rq.r.MultipartForm
	if mf == nil || len(mf.File["file"]) == 0 || mf.File["file"][0].Size == 0 {
		return res, fault.Invalidf("Choose a CSV file to upload.")
	}
	file := mf.File["file"][0]
	if file.Size > lists.MaxCSVBytes {
		return res, fault.TooLargef("The file is larger than 5 MB; split it in parts.")
	}
	f, err := file.Open()
	if err != nil {
		return res, err
	}
	defer f.Close()
	ms, err := lists.ParseCSVMembers(io.LimitReader(f, lists.MaxCSVBytes), rq.r.PostFormValue("subscribed") == "on")
	if err != nil {
		return res, err
	}
	if len(ms) == 0 {
		return res, fault.Invalidf("The file has no members.")
	}
	up, err := s.Lists.AddMembers(rq.r.Context(), l, ms, rq.r.PostFormValue("upsert") == "on")
	if err != nil {
		return res, err
	}
	s.Log.Info("list members uploaded", "list", l, "members", len(ms), "task", up.TaskID, "user_id", rq.ses.User.ID)
	if up.TaskID != "" {
		res.To = mlistPath(l) + "/uploads/" + url.PathEscape(up.TaskID)
		return res, nil
	}
	res.Flash.Notice = pluralMembers(len(ms)) + " from the file were written to " + l + "."
	return res, nil
}

func pluralMembers(n int) string {
	if n == 1 {
		return "1 member"
	}
	return strconv.Itoa(n) + " members"
}

// uploadData is the page that follows a background upload.
type uploadData struct {
	List    string
	Task    lists.TaskView
	Running bool
}

func (s *Server) uploadPage(rq *request) error {
	l := rq.r.PathValue("list")
	t, ok := s.Lists.Task(rq.r.PathValue("id"))
	if !ok || t.List != strings.ToLower(l) {
		return fault.NotFoundf("There is no such upload to %s (uploads are remembered until the server restarts).", l)
	}
	return s.show(rq, "list_upload", "Upload to "+l, "lists", uploadData{List: l, Task: t, Running: t.Status == "running"})
}
