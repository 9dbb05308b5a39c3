package fakevbazure

import "github.com/openrestore/portal/demotenant"

// The demo's VBAzure accounts that people sign in with. The passwords and
// Nestor's MFA secret are the demo's own, printed by `make run`: never
// reuse them.
const (
	// DemoAdminName is the Default Admin.
	DemoAdminName     = "vbazure-admin"
	DemoAdminPassword = "Contoso-Vault-Admin7"
	// DemoOperatorName is Nestor Wilke's own account: a Portal
	// Administrator with MFA, whose codes come from DemoMFASecret.
	DemoOperatorName     = "nestor-wilke"
	DemoOperatorPassword = "Nestor-Backup-Ops9"
	DemoMFASecret        = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"
	// DemoServiceName is the restore portal's own account: a Restore
	// Operator with MFA, whose codes the portal computes from
	// DemoServiceSecret to restore files of Azure VMs.
	DemoServiceName     = "restore-portal"
	DemoServicePassword = "Portal-Restores-Azure4"
	DemoServiceSecret   = "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U"
)

// DemoUsers are the accounts of the demo's Veeam Backup for Microsoft
// Azure: the Default Admin, Nestor (Contoso's portal administrator) with
// MFA, internal users with and without MFA, and users of type
// IdentityProvider linked to Contoso people by their Entra object ids.
func DemoUsers() []SeedUser {
	person := func(upn string) string { return demotenant.ID("user", upn+"@"+demotenant.Domain) }
	return []SeedUser{
		{Name: DemoAdminName, Description: "Default Admin", Role: RolePortalAdmin, Password: DemoAdminPassword, Default: true},
		{Name: DemoOperatorName, Description: "Nestor Wilke, Director of Operations", Role: RolePortalAdmin,
			Password: DemoOperatorPassword, MFASecret: DemoMFASecret, ScratchCodes: []string{"40271935", "81630274", "17394026"}},
		{Name: "backup-reports", Description: "Reports for the operations team", Role: RoleReadOnlyUser,
			Password: "Reports-Contoso-Read5", MFASecret: NewSecret(), ScratchCodes: []string{"55190342"}},
		{Name: "helpdesk-restore", Description: "Helpdesk restores, first line", Role: RoleRestoreOperator, Password: "Helpdesk-Contoso-Fix8"},
		{Name: DemoServiceName, Description: "The restore portal", Role: RoleRestoreOperator, Password: DemoServicePassword,
			MFASecret: DemoServiceSecret, ScratchCodes: []string{"60418273"}},
		{Name: "azure-ops", Description: "Backup policies and workers", Role: RolePortalOperator, Password: "Policies-Contoso-Run3",
			MFASecret: NewSecret()},
		{Name: "LeeG", Description: "Lee Gu, IT", Role: RoleRestoreOperator, Type: typeIdP, IdentityProviderEntityID: person("LeeG")},
		{Name: "PattiF", Description: "Patti Fernandez, Executive Management", Role: RoleReadOnlyUser, Type: typeIdP,
			IdentityProviderEntityID: person("PattiF")},
	}
}
