namespace Rebundle.Domain
{
    /// <summary>Where a server is in its life. Backends map their own states onto these.</summary>
    public enum ServerStatus
    {
        Pending,
        Running,
        Failed,
        Terminating,
        Terminated,
    }

    /// <summary>Where a machine image is in its life.</summary>
    public enum ImageStatus
    {
        Pending,
        Available,
        Failed,
    }
}
