package bounce_test

import (
	"fmt"

	"github.com/salvo-email/salvo/internal/bounce"
)

func ExampleParse() {
	raw := "From: MAILER-DAEMON@mx.example.net\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: message/delivery-status\r\n\r\n" +
		"Reporting-MTA: dns; mx.example.net\r\n\r\n" +
		"Final-Recipient: rfc822; gone@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n" +
		"Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n" +
		"--b\r\nContent-Type: text/rfc822-headers\r\n\r\n" +
		"Return-Path: <bounce+tok@send.example.com>\r\nMessage-ID: <m1@send.example.com>\r\n" +
		"--b--\r\n"
	r := bounce.Parse([]byte(raw))
	fmt.Println(r.Kind, r.Format, r.ReportingMTA, r.Original.ReturnPath, r.Original.MessageID)
	for _, rc := range r.Recipients {
		fmt.Println(rc.Final, rc.Action, rc.Status, rc.Code, rc.Severity(), rc.Category, rc.Diagnostic)
	}
	// Output:
	// failed dsn mx.example.net bounce+tok@send.example.com m1@send.example.com
	// gone@example.org failed 5.1.1 550 permanent unknown-user 550 5.1.1 user unknown
}
