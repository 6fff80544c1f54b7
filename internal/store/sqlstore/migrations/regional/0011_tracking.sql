-- Open, click and unsubscribe tracking settings of each domain (reference
-- §9). Off for new domains, as in Mailgun. click_htmlonly is kept apart
-- from click_active because the API reports "active" as a JSON boolean.
ALTER TABLE domains ADD COLUMN click_active BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE domains ADD COLUMN click_htmlonly BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE domains ADD COLUMN open_active BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE domains ADD COLUMN open_top BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE domains ADD COLUMN unsubscribe_active BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE domains ADD COLUMN unsubscribe_html_footer TEXT NOT NULL DEFAULT '';
ALTER TABLE domains ADD COLUMN unsubscribe_text_footer TEXT NOT NULL DEFAULT '';
-- Domains created before this migration get Mailgun's default footers
-- (new ones get them from package domains, store.DefaultTracking).
UPDATE domains SET
    unsubscribe_html_footer = {{NL}} || '<br>' || {{NL}} || '<p><a href="%unsubscribe_url%">unsubscribe</a></p>' || {{NL}},
    unsubscribe_text_footer = {{NL}} || {{NL}} || 'To unsubscribe click: <%unsubscribe_url%>' || {{NL}} || {{NL}};
