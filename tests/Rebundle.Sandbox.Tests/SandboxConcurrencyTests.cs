using Rebundle.Domain;
using Rebundle.Runbook;
using Rebundle.Sandbox;
using Xunit;

namespace Rebundle.Sandbox.Tests;

public class SandboxConcurrencyTests : IDisposable
{
    private readonly TestFleet _t = new();

    public void Dispose() => _t.Dispose();

    [Fact]
    public void Many_writers_on_one_file_lose_no_change_and_never_corrupt_it()
    {
        // Each writer opens its own handle on the file, as a second PowerShell process would.
        const int writers = 6, changesEach = 15;
        var roles = Enumerable.Range(0, writers).Select(w => $"Writer{w}").ToList();
        var template = _t.Fleet.Roles().Require("TTM-Base");
        Parallel.ForEach(roles, new ParallelOptions { MaxDegreeOfParallelism = writers }, role =>
        {
            var backend = SandboxBackend.Open(_t.Directory, clock: _t.Clock);
            for (var i = 0; i < changesEach; i++)
                backend.CreateRole($"{role}-1-{i}", template, template.ImageId);
        });

        var catalog = new Fleet(_t.Reopen()).Roles();
        foreach (var role in roles)
            Assert.Equal(changesEach, catalog.VersionsOf(role).Count);
        Assert.Empty(Directory.GetFiles(_t.Directory, "*.tmp-*"));
    }
}
