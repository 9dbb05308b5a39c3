package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/store"
	"github.com/openrestore/portal/vbazure"
	"github.com/openrestore/portal/vmaccess"
)

// The Azure VMs workload: people restore files of the Azure VMs the
// portal's rules give them (vmaccess), from Veeam Backup for Microsoft
// Azure's backups, through one service account of VBAzure's (a Restore
// Operator the portal signs in itself, MFA included). VBAzure has no
// per-person scope, so every request checks the rules anew: a VM outside
// them does not exist for the person.

// azureWorkload names the workload in records, the trail and the restore list.
const azureWorkload = "azurevm"

// azureCacheTTL is how long the portal keeps what VBAzure said of the VMs,
// their points and their past sessions: shared by everyone, as the
// service account sees the same for all.
const azureCacheTTL = time.Minute

// azVM is a VM with what the portal shows of it.
type azVM struct {
	vbazure.VirtualMachine
	LastBackup time.Time // zero: no backup
}

func (v azVM) rulesVM() vmaccess.VM {
	return vmaccess.VM{ID: v.ID, Name: v.Name, SubscriptionID: v.SubscriptionID, ResourceGroup: v.ResourceGroupName}
}

// vmInventory is what VBAzure knows of the VMs, at one moment.
type vmInventory struct {
	vms      []azVM // by name
	subs     map[string]string
	accounts []vbazure.ServiceAccount
}

func (inv *vmInventory) vm(id string) (azVM, bool) {
	i := slices.IndexFunc(inv.vms, func(v azVM) bool { return strings.EqualFold(v.ID, id) })
	if i < 0 {
		return azVM{}, false
	}
	return inv.vms[i], true
}

// restoreAccount is the Azure service account that restores the VM's
// files to it: one for VM restores whose subscriptions hold the VM's.
func (inv *vmInventory) restoreAccount(v azVM) (vbazure.ServiceAccount, bool) {
	for _, a := range inv.accounts {
		if slices.Contains(a.Purposes, vbazure.PurposeVMRestore) &&
			slices.ContainsFunc(a.SubscriptionIDs, func(s string) bool { return strings.EqualFold(s, v.SubscriptionID) }) {
			return a, true
		}
	}
	return vbazure.ServiceAccount{}, false
}

func (inv *vmInventory) subscription(id string) string {
	if n, ok := inv.subs[strings.ToLower(id)]; ok {
		return n
	}
	return id
}

// requireAzureVMs lets requests through only when the portal restores
// Azure VMs (a VBAzure server and its service account are configured).
func (h *Handler) requireAzureVMs(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if h.vms == nil {
			return httpError(http.StatusNotFound, errors.New("restores of Azure VMs are not configured"))
		}
		return next(c)
	}
}

// inventory is VBAzure's list of VMs, subscriptions and restore accounts.
func (h *Handler) inventory(ctx context.Context) (*vmInventory, error) {
	return cached(h.azureCache, "inventory", func() (*vmInventory, error) {
		var (
			vms      []vbazure.VirtualMachine
			prot     []vbazure.ProtectedVM
			subs     []vbazure.Subscription
			accounts []vbazure.ServiceAccount
			errs     [4]error
			wg       sync.WaitGroup
		)
		wg.Go(func() { vms, errs[0] = h.vms.VirtualMachines(ctx) })
		wg.Go(func() { prot, errs[1] = h.vms.ProtectedVMs(ctx) })
		wg.Go(func() { subs, errs[2] = h.vms.Subscriptions(ctx) })
		wg.Go(func() { accounts, errs[3] = h.vms.ServiceAccounts(ctx, vbazure.PurposeVMRestore) })
		wg.Wait()
		if err := errors.Join(errs[:]...); err != nil {
			return nil, err
		}
		last := map[string]time.Time{}
		for _, p := range prot {
			last[strings.ToLower(p.ID)] = p.LastBackup
		}
		inv := &vmInventory{subs: map[string]string{}, accounts: accounts}
		for _, s := range subs {
			inv.subs[strings.ToLower(s.ID)] = s.Name
		}
		for _, v := range vms {
			inv.vms = append(inv.vms, azVM{VirtualMachine: v, LastBackup: last[strings.ToLower(v.ID)]})
		}
		slices.SortFunc(inv.vms, func(a, b azVM) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
		return inv, nil
	})
}

// myRules are the rules that apply to the signed-in person.
func (h *Handler) myRules(c *echo.Context) ([]vmaccess.Rule, error) {
	u := userFrom(c)
	rules, err := h.store.VMRules(c.Request().Context(), rulesTenant)
	if err != nil {
		return nil, err
	}
	return vmaccess.Person{Roles: u.Roles, Groups: u.Groups}.Of(rules), nil
}

// myVMs are the VMs the person's rules give them.
func (h *Handler) myVMs(c *echo.Context) ([]azVM, *vmInventory, error) {
	rules, err := h.myRules(c)
	if err != nil || len(rules) == 0 {
		return nil, nil, err
	}
	inv, err := h.inventory(c.Request().Context())
	if err != nil {
		return nil, nil, err
	}
	var out []azVM
	for _, v := range inv.vms {
		if vmaccess.Allowed(rules, v.rulesVM()) {
			out = append(out, v)
		}
	}
	return out, inv, nil
}

// myVM is the VM of the id, when the person's rules give it them; any
// other id is "not found", whether it exists or not.
func (h *Handler) myVM(c *echo.Context, id string) (azVM, *vmInventory, error) {
	if !sessionIDPattern.MatchString(id) {
		return azVM{}, nil, notFoundOrNotYours(fmt.Errorf("VM %q: not an id", id))
	}
	rules, err := h.myRules(c)
	if err != nil {
		return azVM{}, nil, err
	}
	if len(rules) > 0 {
		inv, err := h.inventory(c.Request().Context())
		if err != nil {
			return azVM{}, nil, azureVMError(err)
		}
		if v, ok := inv.vm(id); ok && vmaccess.Allowed(rules, v.rulesVM()) {
			return v, inv, nil
		}
	}
	h.log.WarnContext(c.Request().Context(), "authz_fail", "resource", "azure_vm", "oid", userFrom(c).OID)
	return azVM{}, nil, notFoundOrNotYours(fmt.Errorf("VM %s: no rule of the user's gives it", id))
}

// hasAzureVMs reports whether the person may restore any VM, for the
// workload's tab. With rules but no answer from VBAzure, the tab shows:
// its page says what is wrong.
func (h *Handler) hasAzureVMs(c *echo.Context) bool {
	if h.vms == nil {
		return false
	}
	rules, err := h.myRules(c)
	if err != nil || len(rules) == 0 {
		return false
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	inv, err := h.inventory(ctx)
	if err != nil {
		return true
	}
	return slices.ContainsFunc(inv.vms, func(v azVM) bool { return vmaccess.Allowed(rules, v.rulesVM()) })
}

// vmPoints are a VM's restore points, newest first.
func (h *Handler) vmPoints(ctx context.Context, vmID string) ([]vbazure.RestorePoint, error) {
	return cached(h.azureCache, "points\x00"+strings.ToLower(vmID), func() ([]vbazure.RestorePoint, error) {
		return h.vms.RestorePoints(ctx, vmID)
	})
}

// vmPoint is one of the VM's points; any other id is "not found".
func (h *Handler) vmPoint(ctx context.Context, vm azVM, id string) (vbazure.RestorePoint, error) {
	points, err := h.vmPoints(ctx, vm.ID)
	if err != nil {
		return vbazure.RestorePoint{}, err
	}
	for _, p := range points {
		if strings.EqualFold(p.ID, id) {
			return p, nil
		}
	}
	return vbazure.RestorePoint{}, notFoundOrNotYours(fmt.Errorf("point %q of VM %s: none", id, vm.ID))
}

// vmHistory is what VBAzure logged of the VM's last file-level restore
// session that ended: why it failed, or the warnings it gave (a volume it
// could not read); "" when there is nothing to tell.
type vmHistory struct {
	at     time.Time
	failed bool
	text   string
}

func (h *Handler) lastSession(ctx context.Context, vmID string) (vmHistory, error) {
	return cached(h.azureCache, "history\x00"+strings.ToLower(vmID), func() (vmHistory, error) {
		jobs, err := h.vms.JobSessions(ctx, vbazure.JobQuery{Types: []string{"FileLevelRestore"}, ResourceID: vmID, Limit: 10})
		if err != nil {
			return vmHistory{}, err
		}
		for _, j := range jobs {
			if j.Running() {
				continue
			}
			log, err := h.vms.JobLog(ctx, j.ID)
			if err != nil {
				return vmHistory{}, err
			}
			out := vmHistory{at: j.ExecutionStartTime, failed: j.Status == "Error"}
			var lines []string
			for _, l := range log {
				if (out.failed && l.Status == "Error") || (!out.failed && l.Status == "Warning") {
					lines = append(lines, l.Message)
				}
			}
			out.text = strings.Join(lines, " ")
			return out, nil
		}
		return vmHistory{}, nil
	})
}

// isArmSize reports whether an Azure VM size is of an Arm64 series: a "p"
// among the letters after its vCPU count (Standard_D4ps_v5).
func isArmSize(size string) bool {
	_, rest, ok := strings.Cut(strings.ToLower(size), "_")
	if !ok {
		return false
	}
	series, _, _ := strings.Cut(rest, "_")
	i := strings.IndexFunc(series, func(r rune) bool { return r >= '0' && r <= '9' })
	if i < 0 {
		return false
	}
	return strings.Contains(strings.TrimLeft(series[i:], "0123456789"), "p")
}

// vmBlockers says what makes restoring files to the VM impossible, from
// what VBAzure reports of it: the product's prerequisites (user guide).
func vmBlockers(v azVM, inv *vmInventory) []string {
	var out []string
	if v.IsDeleted {
		out = append(out, "This VM no longer exists in Azure. Veeam Backup for Microsoft Azure can only download the files of its backups, which its REST API does not offer: an administrator can save them from Veeam's own console.")
	}
	if v.OSType != "Windows" && v.OSType != "Linux" {
		out = append(out, "Veeam Backup for Microsoft Azure does not know this VM's operating system, so it cannot restore its files.")
	}
	if isArmSize(v.VMSize) {
		out = append(out, fmt.Sprintf("File-level restore does not support VMs with Arm64 processors, and this VM's size (%s) is one.", v.VMSize))
	}
	if _, ok := inv.restoreAccount(v); !ok && !v.IsDeleted {
		out = append(out, fmt.Sprintf("Veeam Backup for Microsoft Azure has no service account that restores the VMs of the subscription %s. Ask the portal's administrators to add one.",
			inv.subscription(v.SubscriptionID)))
	}
	return out
}

// azureVMError says what a VBAzure failure means to a person restoring.
func azureVMError(err error) error {
	switch {
	case errors.Is(err, vbazure.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Title: "Veeam Backup for Microsoft Azure no longer has it", Err: err, BackURL: "/?workload=azure",
			Message: "The VM, restore point or session is gone: a retention job may have removed it, or the session ended. Start again from the VM."}
	case errors.Is(err, vbazure.ErrSignInRefused), errors.Is(err, vbazure.ErrUnauthorized), errors.Is(err, vbazure.ErrForbidden):
		return &Error{Status: http.StatusBadGateway, Title: "The portal cannot sign in to Veeam Backup for Microsoft Azure", Err: err, Retry: true,
			Message: "Its service account was refused. Nothing was changed. Tell the portal's administrators: the account's password, MFA secret or role may have changed."}
	case errors.Is(err, vbazure.ErrUnavailable):
		return &Error{Status: http.StatusBadGateway, Title: "The Azure backup server is not answering", Retry: true, Err: err,
			Message: "The portal cannot get an answer from Veeam Backup for Microsoft Azure right now. Nothing was changed. Try again in a minute."}
	}
	return err
}

// mySession is the signed-in person's FLR session of the path's id, on a
// VM their rules still give them.
func (h *Handler) mySession(c *echo.Context) (store.FLRSession, azVM, *vmInventory, error) {
	id := c.Param("flr")
	u := userFrom(c)
	if !sessionIDPattern.MatchString(id) {
		return store.FLRSession{}, azVM{}, nil, notFoundOrNotYours(fmt.Errorf("FLR session %q: not an id", id))
	}
	s, err := h.store.FLRSession(c.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (s.TenantID != u.TenantID || s.UserOID != u.OID)) {
		h.log.WarnContext(c.Request().Context(), "authz_fail", "resource", "flr_session", "oid", u.OID)
		return s, azVM{}, nil, notFoundOrNotYours(fmt.Errorf("FLR session %s: not the user's", id))
	}
	if err != nil {
		return s, azVM{}, nil, err
	}
	vm, inv, err := h.myVM(c, s.VMID)
	return s, vm, inv, err
}
