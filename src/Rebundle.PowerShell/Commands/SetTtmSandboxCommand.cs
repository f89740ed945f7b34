using Rebundle.Sandbox;

namespace Rebundle.PowerShell.Commands
{
    /// <summary>
    /// Sets the Sandbox's rehearsal knobs: how long servers take to boot, images to become
    /// available and terminated servers to respawn, and which of them fail — so an operator
    /// can rehearse a failed boot or image before it happens for real. Stored in the Sandbox file.
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "TtmSandbox", SupportsShouldProcess = true, HelpUri = HelpPages.Root + "Set-TtmSandbox.md")]
    public sealed class SetTtmSandboxCommand : TtmCmdlet
    {
        [Parameter]
        [ValidateTimeSpanRange("0:00:00", "1.00:00:00")]
        [TimeSpanArgument]
        public TimeSpan? BootDelay { get; set; }

        /// <summary>Boots vary: each takes -BootDelay plus up to this much more, drawn from -BootSeed's sequence.</summary>
        [Parameter]
        [ValidateTimeSpanRange("0:00:00", "1.00:00:00")]
        [TimeSpanArgument]
        public TimeSpan? BootSpread { get; set; }

        /// <summary>The seed of the boot spread; setting it (again) starts its sequence over, so runs repeat.</summary>
        [Parameter]
        public int? BootSeed { get; set; }

        [Parameter]
        [ValidateTimeSpanRange("0:00:00", "1.00:00:00")]
        [TimeSpanArgument]
        public TimeSpan? ImageDelay { get; set; }

        [Parameter]
        [ValidateTimeSpanRange("0:00:00", "1.00:00:00")]
        [TimeSpanArgument]
        public TimeSpan? RespawnDelay { get; set; }

        /// <summary>Farm roles ("Farm/Alias") whose new servers fail to boot; an empty list clears it.</summary>
        [Parameter]
        [AllowEmptyCollection]
        public string[]? FailBoot { get; set; }

        /// <summary>Farm roles ("Farm/Alias") whose new servers never finish booting.</summary>
        [Parameter]
        [AllowEmptyCollection]
        public string[]? NeverBoot { get; set; }

        /// <summary>Role names whose snapshot images fail.</summary>
        [Parameter]
        [AllowEmptyCollection]
        public string[]? FailImage { get; set; }

        /// <summary>How long a server registered in a target group stays "initial" before it is healthy (the health check interval × healthy threshold).</summary>
        [Parameter]
        [ValidateTimeSpanRange("0:00:00", "1.00:00:00")]
        [TimeSpanArgument]
        public TimeSpan? HealthDelay { get; set; }

        /// <summary>How long a deregistered server drains from its target groups (their deregistration delay).</summary>
        [Parameter]
        [ValidateTimeSpanRange("0:00:00", "1.00:00:00")]
        [TimeSpanArgument]
        public TimeSpan? DrainDelay { get; set; }

        /// <summary>Farm roles ("Farm/Alias") whose new servers boot but fail their load balancer health checks.</summary>
        [Parameter]
        [AllowEmptyCollection]
        public string[]? FailHealth { get; set; }

        /// <summary>Farm roles to grow, "Farm/Alias" = count: e.g. @{ 'Production/RailsAppServer' = 400 }. New servers run at once.</summary>
        [Parameter]
        public System.Collections.Hashtable? Scale { get; set; }

        protected override void End()
        {
            var sandbox = Fleet.Backend.Capability<ISandboxControl>();
            if (sandbox == null)
                throw new TtmException(TtmErrorCode.InvalidArgument,
                    $"Set-TtmSandbox changes the Sandbox only; this session is connected to {Fleet.Backend.Kind}. Run Connect-TtmFleet -Sandbox first.");
            if (!ShouldProcess(sandbox.Location, "Change the Sandbox's simulated delays and faults")) return;
            sandbox.Simulate(options =>
            {
                if (BootDelay != null) options.BootDelay = BootDelay.Value;
                if (BootSpread != null) options.BootSpread = BootSpread.Value;
                if (BootSeed != null) options.BootSeed = BootSeed.Value;
                if (ImageDelay != null) options.ImageDelay = ImageDelay.Value;
                if (RespawnDelay != null) options.RespawnDelay = RespawnDelay.Value;
                Replace(options.FailBoot, FailBoot);
                Replace(options.NeverBoot, NeverBoot);
                Replace(options.FailImage, FailImage);
                if (HealthDelay != null) options.HealthDelay = HealthDelay.Value;
                if (DrainDelay != null) options.DrainDelay = DrainDelay.Value;
                Replace(options.FailHealth, FailHealth);
            });
            foreach (System.Collections.DictionaryEntry entry in Scale ?? new System.Collections.Hashtable())
            {
                var key = entry.Key?.ToString() ?? "";
                var slash = key.IndexOf('/');
                if (slash < 1 || !int.TryParse(entry.Value?.ToString(), out var count) || count < 1 || count > 5000)
                    throw new TtmException(TtmErrorCode.InvalidArgument,
                        $"-Scale takes 'Farm/Alias' = count (1 to 5000), e.g. @{{ 'Production/RailsAppServer' = 400 }}; got '{key}' = '{entry.Value}'.", key);
                sandbox.Scale(key.Substring(0, slash), key.Substring(slash + 1), count);
            }
        }

        private static void Replace(System.Collections.Generic.IList<string> list, string[]? with)
        {
            if (with == null) return;
            list.Clear();
            foreach (var item in with) list.Add(item);
        }
    }
}
