namespace Rebundle.PowerShell.Completion
{
    /// <summary>What a parameter names, and so what Tab offers for it.</summary>
    internal enum NameKind
    {
        None,
        Farm,
        FarmRoleAlias,
        StagingAlias,
        Role,
        NextVersion,
    }
}
