package veeamapi

import (
	"context"
	"net/url"
	"strings"
	"time"
)

// Folder is a mailbox folder (RESTExchangeFolder).
type Folder struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Type      string  `json:"type"`     // None, Appointment, Contact, Task, StickyNote, Journal
	Category  string  `json:"category"` // Inbox, Sent, Deleted, Drafts, Junk, ...
	MailboxID string  `json:"mailboxId"`
	Actions   Actions `json:"_actions"`
}

// Attachment is an item's attachment (RESTAttachment).
type Attachment struct {
	Name      string `json:"name"`
	SizeBytes int64  `json:"sizeBytes"`
}

// Item is a mailbox item (RESTExchangeItemsComposed): the union of the
// message, appointment, contact, contact group, discussion, journal, note
// and task variants. Kind tells which one it is.
type Item struct {
	ID          string       `json:"id"`
	MailboxID   string       `json:"mailboxId"`
	ItemClass   string       `json:"itemClass"`
	Subject     string       `json:"subject"`
	From        string       `json:"from"`
	To          string       `json:"to"`
	Cc          string       `json:"cc"`
	Bcc         string       `json:"bcc"`
	Sent        *time.Time   `json:"sent"`
	Received    *time.Time   `json:"received"`
	Importance  string       `json:"importance"`
	Attachments []Attachment `json:"attachments"`
	Organizer   string       `json:"organizer"`
	Attendees   string       `json:"attendees"`
	StartTime   *time.Time   `json:"startTime"`
	EndTime     *time.Time   `json:"endTime"`
	Location    string       `json:"location"`
	Recurring   *bool        `json:"recurring"`
	Recurrence  string       `json:"recurrencePatternFormat"`
	FullName    string       `json:"fullName"`
	Email       string       `json:"email"`
	Company     string       `json:"company"`
	JobTitle    string       `json:"jobTitle"`
	Business    string       `json:"businessPhone"`
	HomePhone   string       `json:"homePhone"`
	Mobile      string       `json:"mobile"`
	Fax         string       `json:"fax"`
	Address     string       `json:"address"`
	WebPage     string       `json:"webPage"`
	Name        string       `json:"name"` // contact group
	PostedOn    *time.Time   `json:"postedOn"`
	Status      string       `json:"status"` // task
	Percent     *float64     `json:"percentComplete"`
	StartDate   *time.Time   `json:"startDate"`
	DueDate     *time.Time   `json:"dueDate"`
	Owner       string       `json:"owner"`
	Date        *time.Time   `json:"date"` // note
	Actions     Actions      `json:"_actions"`
}

// ItemKind is the variant of an Item.
type ItemKind string

// The item kinds.
const (
	KindMessage      ItemKind = "message"
	KindAppointment  ItemKind = "appointment"
	KindContact      ItemKind = "contact"
	KindContactGroup ItemKind = "contact group"
	KindTask         ItemKind = "task"
	KindNote         ItemKind = "note"
	KindDiscussion   ItemKind = "discussion"
	KindJournal      ItemKind = "journal"
)

// Kind tells the item's variant by its Exchange item class (IPM.Note, ...).
func (i *Item) Kind() ItemKind {
	class := strings.ToLower(i.ItemClass)
	for _, k := range []struct {
		prefix string
		kind   ItemKind
	}{
		{"ipm.appointment", KindAppointment}, {"ipm.schedule", KindAppointment}, {"ipm.contact", KindContact},
		{"ipm.distlist", KindContactGroup}, {"ipm.task", KindTask}, {"ipm.stickynote", KindNote},
		{"ipm.post", KindDiscussion}, {"ipm.activity", KindJournal},
	} {
		if strings.HasPrefix(class, k.prefix) {
			return k.kind
		}
	}
	return KindMessage
}

// Can reports whether the server allows the named action ("save", "exportToPst") on the item.
func (i *Item) Can(action string) bool {
	return i.Actions.Has(action)
}

// MailboxData is one mailbox of an Exchange restore session, as an
// operator sees it: its folders and items, their search, restore and
// download.
type MailboxData struct {
	o    *Operator
	base string // /v8/RestoreSessions/{id}/organization/mailboxes/{id}
}

// MailboxData returns the mailbox with this id in a restore session.
func (o *Operator) MailboxData(session, mailbox string) *MailboxData {
	return &MailboxData{o: o, base: pathf("/v8/RestoreSessions/%s/organization/mailboxes/%s", session, mailbox)}
}

// Mailbox returns the mailbox itself.
//
// VB365: GET /v8/RestoreSessions/{restoreSessionId}/organization/mailboxes/{mailboxId}
func (m *MailboxData) Mailbox(ctx context.Context) (*Mailbox, error) {
	return getOne[Mailbox](ctx, m.o, m.base, nil)
}

// FoldersOptions selects folders: ParentID "root" for the top level, a
// folder id for its subfolders, empty for all; Name filters with * and ?.
type FoldersOptions struct {
	PageOptions
	ParentID string
	Name     string
}

// Folders lists a mailbox's folders.
//
// VB365: GET /v8/RestoreSessions/{restoreSessionId}/organization/mailboxes/{mailboxId}/folders
func (m *MailboxData) Folders(ctx context.Context, opts FoldersOptions) (*Page[Folder], error) {
	q := opts.query()
	if opts.ParentID != "" {
		q.Set("parentId", opts.ParentID)
	}
	if opts.Name != "" {
		q.Set("name", opts.Name)
	}
	var p Page[Folder]
	if err := m.o.get(ctx, m.base+"/folders", q, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Folder returns one folder.
//
// VB365: GET /v8/RestoreSessions/{restoreSessionId}/organization/mailboxes/{mailboxId}/folders/{folderId}
func (m *MailboxData) Folder(ctx context.Context, folder string) (*Folder, error) {
	var f Folder
	if err := m.o.get(ctx, m.base+pathf("/folders/%s", folder), nil, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// Items lists the items of a folder (FolderID), newest first as the server orders them.
//
// VB365: GET /v8/RestoreSessions/{restoreSessionId}/organization/mailboxes/{mailboxId}/items
func (m *MailboxData) Items(ctx context.Context, folder string, page PageOptions) (*Page[Item], error) {
	q := page.query()
	if folder != "" {
		q.Set("parentId", folder)
	}
	return getPage[Item](ctx, m.o, m.base+"/items", q, page)
}

// Item returns one item.
//
// VB365: GET /v8/RestoreSessions/{restoreSessionId}/organization/mailboxes/{mailboxId}/items/{itemId}
func (m *MailboxData) Item(ctx context.Context, item string) (*Item, error) {
	var it Item
	if err := m.o.get(ctx, m.base+pathf("/items/%s", item), nil, &it); err != nil {
		return nil, err
	}
	return &it, nil
}

// Search runs a query (the VB365 search syntax) over a mailbox, or
// over one folder when folder is set. Pages after the first should pass the
// first page's SetID, so the server reuses the result.
//
// VB365: POST /v8/RestoreSessions/{restoreSessionId}/organization/mailboxes/{mailboxId}/search,
// POST …/folders/{folderId}/search
func (m *MailboxData) Search(ctx context.Context, folder, query string, page PageOptions) (*Page[Item], error) {
	p := m.base + "/search"
	if folder != "" {
		p = m.base + pathf("/folders/%s/search", folder)
	}
	out := newPage[Item](page)
	err := m.o.call(ctx, request{Method: "POST", Path: p, Query: page.query(), Body: map[string]string{"query": query}, Idempotent: true}, out)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RestoreItemsOptions is what an operator restore of mail items does
// (RESTOperatorRestoreOptions). Without Folder the items go back to where
// they were; with it, into a new folder of that name.
type RestoreItemsOptions struct {
	Items        []string
	ChangedItems bool // restore items that changed since the restore point
	DeletedItems bool // restore items missing from the mailbox
	MarkUnread   bool
	Folder       string
	Reason       string
}

type itemID struct {
	ID string `json:"id"`
}

func itemIDs(ids []string) []itemID {
	out := make([]itemID, len(ids))
	for i, id := range ids {
		out[i] = itemID{id}
	}
	return out
}

// Restore restores items of the mailbox and returns the id of the restore
// session that reports the progress. It is never retried.
//
// VB365: POST /v8/RestoreSessions/{restoreSessionId}/organization/mailboxes/{mailboxId}/items/operatorRestore
func (m *MailboxData) Restore(ctx context.Context, opts RestoreItemsOptions) (string, error) {
	body := struct {
		Items                []itemID `json:"items"`
		ChangedItems         bool     `json:"changedItems"`
		DeletedItems         bool     `json:"deletedItems"`
		MarkRestoredAsUnread bool     `json:"markRestoredAsUnread"`
		Folder               string   `json:"folder,omitempty"`
		Reason               string   `json:"reason,omitempty"`
	}{itemIDs(opts.Items), opts.ChangedItems, opts.DeletedItems, opts.MarkUnread, opts.Folder, opts.Reason}
	var out struct {
		SessionID string `json:"sessionId"`
	}
	if err := m.o.post(ctx, m.base+"/items/operatorRestore", body, &out); err != nil {
		return "", err
	}
	return out.SessionID, nil
}

// SaveItem downloads one item as an Outlook message (.msg).
//
// VB365: POST /v8/RestoreSessions/{restoreSessionId}/organization/mailboxes/{mailboxId}/items/{itemId}/save
func (m *MailboxData) SaveItem(ctx context.Context, item string) (*Download, error) {
	return m.o.download(ctx, request{Method: "POST", Path: m.base + pathf("/items/%s/save", item)})
}

// SaveItems downloads several items as a ZIP of .msg files.
//
// VB365: POST /v8/RestoreSessions/{restoreSessionId}/organization/mailboxes/{mailboxId}/items/Save
func (m *MailboxData) SaveItems(ctx context.Context, items []string) (*Download, error) {
	return m.o.download(ctx, request{Method: "POST", Path: m.base + "/items/Save",
		Body: map[string][]itemID{"items": itemIDs(items)}})
}

// ExportItems downloads items as a PST file.
//
// VB365: POST /v8/RestoreSessions/{restoreSessionId}/organization/mailboxes/{mailboxId}/items/exportToPst
func (m *MailboxData) ExportItems(ctx context.Context, items []string) (*Download, error) {
	return m.o.download(ctx, request{Method: "POST", Path: m.base + "/items/exportToPst",
		Body: map[string][]itemID{"items": itemIDs(items)}})
}

// ExportFolder downloads a folder's items as a PST file.
//
// VB365: POST /v8/RestoreSessions/{restoreSessionId}/organization/mailboxes/{mailboxId}/folders/{folderId}/exportToPst
func (m *MailboxData) ExportFolder(ctx context.Context, folder string) (*Download, error) {
	return m.o.download(ctx, request{Method: "POST", Path: m.base + pathf("/folders/%s/exportToPst", folder),
		Body: struct{}{}})
}

// Statistics counts what a restore session restored (RESTRestoreSessionStatistics).
type Statistics struct {
	Total    int64           `json:"totalItemsCount"`
	Restored int64           `json:"restoredItemsCount"`
	Failed   int64           `json:"failedItemsCount"`
	Skipped  int64           `json:"skippedItemsCount"`
	Warnings []string        `json:"warnings"`
	Errors   []string        `json:"errors"`
	Items    []RestoreDetail `json:"items"`
}

// RestoreDetail is the result for one object (RESTItemRestoreDetailsComposed).
type RestoreDetail struct {
	Type     string   `json:"itemRestoreDetailsType"` // Item, BulkMailbox, BulkOneDrive
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	ItemType string   `json:"itemType"`
	Status   string   `json:"status"`
	Error    string   `json:"error"`
	Warnings []string `json:"warnings"`
	Created  int64    `json:"createdMailboxItemsCount"`
	Merged   int64    `json:"mergedMailboxItemsCount"`
}

// RestoreSessionStatistics returns the counts of a restore session.
//
// VB365: GET /v8/RestoreSessions/{restoreSessionId}/Statistics
func (o *Operator) RestoreSessionStatistics(ctx context.Context, id string) (*Statistics, error) {
	var s Statistics
	if err := o.get(ctx, pathf("/v8/RestoreSessions/%s/Statistics", id), url.Values{}, &s); err != nil {
		return nil, err
	}
	return &s, nil
}
