package fakeveeam

import (
	"path"
	"strconv"
	"strings"
	"time"
)

// doc is what a search of OneDrive and SharePoint items looks at: a node in
// one version.
type doc struct {
	n   *docNode
	ver int       // index of the version
	at  time.Time // the restore point
	v   *docVersion
}

func docAt(n *docNode, ver int, at time.Time) doc {
	return doc{n: n, ver: ver, at: at, v: &n.versions[ver]}
}

func (d doc) title() string {
	if d.v.title != "" {
		return d.v.title
	}
	return d.n.name
}

func (d doc) ext() []string {
	if d.n.folder() {
		return nil
	}
	e := strings.TrimPrefix(path.Ext(d.n.name), ".")
	if e == "" {
		return nil
	}
	return []string{e, "." + e}
}

// spodProperties are every canonical name and shortcut of the SharePoint and
// OneDrive search (search-parameters.md): the server accepts them all, and
// those a fake document has no value for match nothing.
const spodProperties = `system.author system.calendar.location location system.category category system.comment
system.communication.dateitemexpires system.communication.taskstatus system.company company system.contact.anniversary
system.contact.assistantname assistantname system.contact.assistanttelephone assistantphone system.contact.birthday birthday
system.contact.businessaddress businessaddress system.contact.businessaddresscity businesscity
system.contact.businessaddresscountry system.contact.businessaddresspostalcode businesspostalcode
system.contact.businessaddressstate system.contact.businessfaxnumber businessfax system.contact.businesstelephone businessphone
system.contact.callbacktelephone callbacknumber system.contact.cartelephone carphone system.contact.companymaintelephone
system.contact.department department system.contact.emailaddress emailaddress system.contact.emailname system.contact.firstname
firstname system.contact.fullname fullname system.contact.gender system.contact.hobbies system.contact.homeaddresscity homecity
system.contact.homeaddresscountry system.contact.homeaddresspostalcode homepostalcode system.contact.homeaddressstate
system.contact.homeaddressstreet homestreet system.contact.homefaxnumber homefax system.contact.hometelephone homephone
system.contact.imaddress imaddress system.contact.initials system.contact.ja.companynamephonetic
system.contact.ja.firstnamephonetic system.contact.ja.lastnamephonetic system.contact.middlename
system.contact.mobiletelephone mobilephone system.contact.nickname nickname system.contact.officelocation officelocation
system.contact.otheraddresscity othercity system.contact.otheraddresscountry system.contact.otheraddresspostalcode
otherpostalcode system.contact.otheraddressstate system.contact.otheraddressstreet otherstreet system.contact.pagertelephone
pager system.contact.primarytelephone system.contact.profession profession system.contact.spousename spouse
system.contact.suffix system.contact.telexnumber system.contact.ttytddtelephone system.copyright system.datecompleted
completed system.datecreated datecreated system.datemodified datemodified system.devices.networkname
system.document.contributor system.document.lastauthor system.document.revisionnumber system.document.version
system.duedate due duedate system.enddate enddate system.filecount system.filedescription system.fileextension
system.filename filename system.identity.username system.image.horizontalsize system.image.verticalsize system.isdeleted
system.isread read isread system.itemfolderpathdisplay system.itempathdisplay system.itemtypetext system.itemurl
system.language system.link.targeturl system.media.duration system.media.publisher system.media.userweburl
system.message.ccaddress cc ccaddress system.message.fromaddress from system.message.hasattachments hasattachments
system.message.toname to system.mileageinformation system.search.contents body content contents system.size size
system.sourceitem system.startdate start system.status system.subject subject system.task.billinginformation system.title
title`

// docLanguage searches OneDrive and SharePoint items. A bare word is looked
// for in the name, title, path and the people who created and changed it.
var docLanguage = &language[doc]{props: func() map[string]*property[doc] {
	nothing := texts(func(doc) []string { return nil })
	props := map[string]*property[doc]{}
	for _, name := range strings.Fields(spodProperties) {
		props[name] = nothing
	}
	set := func(p *property[doc], names ...string) {
		for _, n := range names {
			props[n] = p
		}
	}
	set(texts(func(d doc) []string { return []string{d.n.name} }), "system.filename", "filename")
	set(texts(doc.ext), "system.fileextension")
	set(texts(func(d doc) []string { return []string{d.n.createdBy} }), "system.author")
	set(texts(func(d doc) []string { return []string{d.v.by} }), "system.document.lastauthor")
	set(texts(func(d doc) []string { return []string{d.title()} }), "system.title", "title", "system.subject", "subject")
	set(texts(func(d doc) []string { return []string{d.n.name, d.title()} }), "system.search.contents", "body", "content", "contents")
	set(texts(func(d doc) []string { return []string{d.n.dir()} }), "system.itemfolderpathdisplay")
	set(texts(func(d doc) []string { return []string{d.n.path()} }), "system.itempathdisplay")
	set(texts(func(d doc) []string {
		switch d.n.kind {
		case docFolder:
			return []string{"Folder"}
		case docListItem:
			return []string{"Item"}
		}
		return []string{"Document"}
	}), "system.itemtypetext")
	set(texts(func(d doc) []string { return []string{versionLabel(d.ver)} }), "system.document.version")
	set(dates(func(d doc) time.Time { return d.v.since }), "system.datemodified", "datemodified")
	set(dates(func(d doc) time.Time { return d.n.created }), "system.datecreated", "datecreated")
	set(&property[doc]{kind: propSize, size: func(d doc) int64 { return d.v.size }}, "system.size", "size")
	set(&property[doc]{kind: propBool, flag: func(d doc) bool { return len(d.n.attachments) > 0 }},
		"system.message.hasattachments", "hasattachments")
	set(&property[doc]{kind: propBool, flag: func(d doc) bool { return !d.n.deleted.IsZero() && !d.n.deleted.After(d.at) }}, "system.isdeleted")
	return props
}(), text: func(d doc) []string {
	return []string{d.n.name, d.title(), d.n.dir(), d.n.createdBy, d.v.by}
}}

// versionLabel is how VB365 writes version i (0-based) of a document: "3.0".
func versionLabel(i int) string { return strconv.Itoa(i+1) + ".0" }
