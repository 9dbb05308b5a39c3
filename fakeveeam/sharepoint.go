package fakeveeam

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
)

func (s *Server) sharePointRoutes(m *http.ServeMux) {
	site := "/v8/RestoreSessions/{restoreSessionId}/Organization/Sites/{siteId}"
	handle := func(pattern string, h func(http.ResponseWriter, *http.Request, *docScope)) {
		m.HandleFunc(pattern, s.authed(s.inSite(h)))
	}
	handle("GET "+site, func(w http.ResponseWriter, r *http.Request, sc *docScope) {
		st := s.dir.sites[sc.siteID]
		writeJSON(w, http.StatusOK, siteJSON(sc, st.Title, st.URL))
	})
	trees := func(kind treeKind) func(w http.ResponseWriter, r *http.Request, sc *docScope) {
		return func(w http.ResponseWriter, r *http.Request, sc *docScope) {
			offset, limit, ok := pageParams(w, r)
			if !ok {
				return
			}
			var out []treeJSON
			for _, t := range sc.trees {
				if t.kind == kind {
					out = append(out, s.treeView(sc, t))
				}
			}
			writeJSON(w, http.StatusOK, paginate(r, out, offset, limit))
		}
	}
	tree := func(kind treeKind, param string) func(w http.ResponseWriter, r *http.Request, sc *docScope) {
		return func(w http.ResponseWriter, r *http.Request, sc *docScope) {
			t, ok := sc.tree(r.PathValue(param), kind)
			if !ok {
				notFound(w, "The library or list with the specified ID was not found.")
				return
			}
			writeJSON(w, http.StatusOK, s.treeView(sc, t))
		}
	}
	handle("GET "+site+"/Libraries", trees(treeLibrary))
	handle("GET "+site+"/Libraries/{libraryId}", tree(treeLibrary, "libraryId"))
	handle("GET "+site+"/Lists", trees(treeList))
	handle("GET "+site+"/Lists/{listId}", tree(treeList, "listId"))
	handle("GET "+site+"/Folders", func(w http.ResponseWriter, r *http.Request, sc *docScope) {
		s.listDocFolders(w, r, sc, treeLibrary, treeList)
	})
	handle("GET "+site+"/Folders/{folderId}", func(w http.ResponseWriter, r *http.Request, sc *docScope) { s.getDoc(w, r, sc, "folderId", docFolder) })
	handle("GET "+site+"/Folders/{folderId}/Versions", func(w http.ResponseWriter, r *http.Request, sc *docScope) {
		s.docVersions(w, r, sc, "folderId", docFolder)
	})
	handle("GET "+site+"/Folders/{folderId}/Versions/{versionId}", func(w http.ResponseWriter, r *http.Request, sc *docScope) {
		s.getDocVersion(w, r, sc, "folderId", docFolder)
	})
	for _, kind := range []struct {
		path  string
		param string
		tree  treeKind
		node  docKind
	}{{"/Documents", "documentId", treeLibrary, docFile}, {"/Items", "itemId", treeList, docListItem}} {
		handle("GET "+site+kind.path, func(w http.ResponseWriter, r *http.Request, sc *docScope) { s.listDocs(w, r, sc, kind.tree) })
		handle("GET "+site+kind.path+"/{"+kind.param+"}", func(w http.ResponseWriter, r *http.Request, sc *docScope) {
			s.getDoc(w, r, sc, kind.param, kind.node)
		})
		handle("GET "+site+kind.path+"/{"+kind.param+"}/Versions", func(w http.ResponseWriter, r *http.Request, sc *docScope) {
			s.docVersions(w, r, sc, kind.param, kind.node)
		})
		handle("GET "+site+kind.path+"/{"+kind.param+"}/Versions/{versionId}", func(w http.ResponseWriter, r *http.Request, sc *docScope) {
			s.getDocVersion(w, r, sc, kind.param, kind.node)
		})
	}
	handle("GET "+site+"/Items/{itemId}/Attachments", func(w http.ResponseWriter, r *http.Request, sc *docScope) {
		offset, limit, ok := pageParams(w, r)
		if !ok {
			return
		}
		n, ok := sc.node(r.PathValue("itemId"), docListItem)
		if !ok {
			notFound(w, "The item with the specified ID was not found in the restore point.")
			return
		}
		out := []attachmentJSONsp{}
		for _, a := range n.attachments {
			out = append(out, s.attachmentView(sc, n, a))
		}
		writeJSON(w, http.StatusOK, paginate(r, out, offset, limit))
	})
	handle("GET "+site+"/Items/{itemId}/Attachments/{attachmentId}", func(w http.ResponseWriter, r *http.Request, sc *docScope) {
		if n, a, ok := attachmentOf(w, r, sc); ok {
			writeJSON(w, http.StatusOK, s.attachmentView(sc, n, a))
		}
	})

	// Search at every level.
	search := func(pool func(r *http.Request, sc *docScope) ([]*docNode, bool)) func(w http.ResponseWriter, r *http.Request, sc *docScope) {
		return func(w http.ResponseWriter, r *http.Request, sc *docScope) {
			nodes, ok := pool(r, sc)
			if !ok {
				notFound(w, "The object to search in was not found.")
				return
			}
			s.searchIn(w, r, sc, func() []*docNode { return nodes })
		}
	}
	handle("POST "+site+"/search", search(func(r *http.Request, sc *docScope) ([]*docNode, bool) {
		return append(sc.everything(treeLibrary, true, true), sc.everything(treeList, true, true)...), true
	}))
	for _, k := range []struct {
		path, param string
		kind        treeKind
	}{{"/Libraries/{libraryId}/search", "libraryId", treeLibrary}, {"/Lists/{listId}/search", "listId", treeList}} {
		handle("POST "+site+k.path, search(func(r *http.Request, sc *docScope) ([]*docNode, bool) {
			t, ok := sc.tree(r.PathValue(k.param), k.kind)
			if !ok {
				return nil, false
			}
			var out []*docNode
			for _, n := range t.all {
				if n.existsAt(sc.point, sc.showDeleted) {
					out = append(out, n)
				}
			}
			return out, true
		}))
	}
	handle("POST "+site+"/Folders/{folderId}/search", search(func(r *http.Request, sc *docScope) ([]*docNode, bool) {
		n, ok := sc.node(r.PathValue("folderId"), docFolder)
		if !ok {
			return nil, false
		}
		return n.descendants(sc.point, sc.showDeleted), true
	}))

	handle("POST "+site+"/Documents/operatorRestore", s.sharePointRestore(false))
	handle("POST "+site+"/Items/operatorRestore", s.sharePointRestore(true))

	handle("POST "+site+"/Documents/save", func(w http.ResponseWriter, r *http.Request, sc *docScope) { s.saveDocs(w, r, sc, "documents", docFile) })
	handle("POST "+site+"/Documents/{documentId}/save", func(w http.ResponseWriter, r *http.Request, sc *docScope) {
		s.saveDoc(w, r, sc, "documentId", docFile, false)
	})
	handle("POST "+site+"/Documents/{documentId}/Versions/{versionId}/save", func(w http.ResponseWriter, r *http.Request, sc *docScope) {
		s.saveDoc(w, r, sc, "documentId", docFile, true)
	})
	handle("POST "+site+"/Folders/save", func(w http.ResponseWriter, r *http.Request, sc *docScope) { s.saveDocs(w, r, sc, "folders", docFolder) })
	handle("POST "+site+"/Folders/{folderId}/save", func(w http.ResponseWriter, r *http.Request, sc *docScope) { s.saveFolder(w, r, sc) })
	handle("POST "+site+"/Libraries/{libraryId}/save", func(w http.ResponseWriter, r *http.Request, sc *docScope) {
		if !s.downloadable(w, sc.c) {
			return
		}
		t, ok := sc.tree(r.PathValue("libraryId"), treeLibrary)
		if !ok {
			notFound(w, "The library with the specified ID was not found.")
			return
		}
		var nodes []*docNode
		for _, n := range t.all {
			if n.existsAt(sc.point, sc.showDeleted) {
				nodes = append(nodes, n)
			}
		}
		s.streamZip(w, sc, nodes, nil)
	})
	handle("POST "+site+"/Items/{itemId}/Attachments/save", func(w http.ResponseWriter, r *http.Request, sc *docScope) {
		if !s.downloadable(w, sc.c) {
			return
		}
		n, ok := sc.node(r.PathValue("itemId"), docListItem)
		if !ok {
			notFound(w, "The item with the specified ID was not found in the restore point.")
			return
		}
		var body struct {
			Attachments []restoreRef `json:"attachments"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil && err != io.EOF {
			badRequest(w, "The request body is not a valid RESTSaveAttachmentsOptions object.")
			return
		}
		var pick []docAttachment
		for _, a := range n.attachments {
			wanted := len(body.Attachments) == 0
			for _, ref := range body.Attachments {
				wanted = wanted || ref.ID == a.id
			}
			if wanted {
				pick = append(pick, a)
			}
		}
		if len(pick) == 0 {
			notFound(w, "None of the attachments was found.")
			return
		}
		s.streamAttachments(w, n, pick)
	})
	handle("POST "+site+"/Items/{itemId}/Attachments/{attachmentId}/save", func(w http.ResponseWriter, r *http.Request, sc *docScope) {
		if !s.downloadable(w, sc.c) {
			return
		}
		if _, a, ok := attachmentOf(w, r, sc); ok {
			s.streamDownload(w, "file", 1, a.size, func(out io.Writer) error {
				_, err := io.CopyBuffer(out, newBytes("attachment/"+a.id, a.size), make([]byte, 64<<10))
				return err
			})
		}
	})
}

func siteJSON(sc *docScope, title, u string) site {
	return site{ID: sc.siteID, Name: title, URL: u, Links: map[string]link{"self": {Href: sc.base}}}
}

func attachmentOf(w http.ResponseWriter, r *http.Request, sc *docScope) (*docNode, docAttachment, bool) {
	n, ok := sc.node(r.PathValue("itemId"), docListItem)
	if ok {
		for _, a := range n.attachments {
			if a.id == r.PathValue("attachmentId") {
				return n, a, true
			}
		}
	}
	notFound(w, "The attachment with the specified ID was not found.")
	return nil, docAttachment{}, false
}

func (s *Server) attachmentView(sc *docScope, n *docNode, a docAttachment) attachmentJSONsp {
	self := sc.selfPath(n) + "/Attachments/" + url.PathEscape(a.id)
	v := attachmentJSONsp{SizeBytes: a.size, ID: a.id, Name: a.name, URL: n.tree.url + "/Attachments/" + url.PathEscape(a.name),
		SiteID: sc.siteID, ItemID: n.id, Links: map[string]link{"self": {Href: self}}, Actions: map[string]action{}}
	if s.mayDownload(sc.c) {
		v.Actions = map[string]action{"save": {URI: self + "/save", Method: "POST"}}
	}
	return v
}

// streamAttachments sends a ZIP of a list item's attachments.
func (s *Server) streamAttachments(w http.ResponseWriter, n *docNode, atts []docAttachment) {
	s.streamDownload(w, "zip", len(atts), 0, func(out io.Writer) error {
		zw := newZip(out)
		for _, a := range atts {
			if err := zw.add(zipPath(a.name), n.created, newBytes("attachment/"+a.id, a.size)); err != nil {
				return err
			}
		}
		return zw.close()
	})
}
