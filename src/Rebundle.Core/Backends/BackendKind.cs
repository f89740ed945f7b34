namespace Rebundle.Backends
{
    /// <summary>Which backend a fleet is on; shown as its name ("Sandbox", "Aws", "Scalr") in output, leases and the audit log.</summary>
    public enum BackendKind
    {
        Sandbox,
        Aws,
        Scalr,
    }
}
