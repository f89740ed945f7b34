using Rebundle.Backends;

namespace Rebundle.Sandbox
{
    /// <summary>
    /// The rehearsal knobs of the Sandbox (delays, faults) that Set-TtmSandbox turns. Asked for
    /// with <c>Capability&lt;ISandboxControl&gt;()</c>; it changes the simulation, not the fleet, so
    /// the audit wrapper forwards it as it is.
    /// </summary>
    public interface ISandboxControl : IUnauditedCapability
    {
        /// <summary>The Sandbox file.</summary>
        string Location { get; }

        /// <summary>Changes the simulation options stored in the Sandbox file.</summary>
        void Simulate(Action<SimulationOptions> change);

        /// <summary>
        /// Grows a farm role to <paramref name="count"/> servers, the new ones running at once, to
        /// rehearse at fleet scale (a farm of 500). Never shrinks one: that is a recycle's business.
        /// </summary>
        void Scale(string farm, string alias, int count);
    }
}
