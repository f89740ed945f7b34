using Rebundle.Errors;
using Rebundle.PowerShell.Infrastructure.Files;
using Xunit;

namespace Rebundle.PowerShell.Tests;

/// <summary>
/// Farm and journal leases as lock files. Two <see cref="FileLeases"/> on one folder are two
/// sessions on one machine: each opens its own lock, so one refuses the other as another process would.
/// </summary>
public sealed class FileLeasesTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private FileLeases Session(string user) => new(_folder.File("leases"), user);

    private static IDisposable Farms(FileLeases leases, params string[] farms) => leases.AcquireFarms(farms, "Invoke-TtmRecycle", breakExpired: false);

    [Fact]
    public void A_farm_another_run_holds_is_refused_with_FarmBusy_naming_the_holder()
    {
        using var alice = Farms(Session("alice"), "Dev");

        var error = Assert.Throws<TtmException>(() => Farms(Session("bob"), "Dev"));

        Assert.Equal(TtmErrorCode.FarmBusy, error.Code);
        Assert.StartsWith("Farm Dev is in use by another run: alice on " + Environment.MachineName, error.Message);
        Assert.Contains($"(process {Environment.ProcessId}, Invoke-TtmRecycle)", error.Message);
        Assert.Contains("its lease ends with its process", error.Message);
    }

    [Fact]
    public void A_farm_is_one_lease_whatever_the_case_of_its_name()
    {
        using var alice = Farms(Session("alice"), "Dev");

        Assert.Equal(TtmErrorCode.FarmBusy, Assert.Throws<TtmException>(() => Farms(Session("bob"), "dev")).Code);
    }

    [Fact]
    public void A_lease_is_given_back_on_dispose_and_another_run_can_take_it()
    {
        Farms(Session("alice"), "Dev").Dispose();

        using var bob = Farms(Session("bob"), "Dev");
    }

    [Fact]
    public void A_lease_is_reentrant_in_one_session_and_held_until_the_last_holder_lets_go()
    {
        var alice = Session("alice");
        var outer = Farms(alice, "Dev");
        var inner = Farms(alice, "Dev", "Staging");

        inner.Dispose();
        Assert.Throws<TtmException>(() => Farms(Session("bob"), "Dev"));
        using (Farms(Session("carol"), "Staging")) { } // Staging was only the inner's

        outer.Dispose();
        using var bob = Farms(Session("bob"), "Dev");
    }

    [Fact]
    public void A_run_refused_one_of_its_farms_holds_none_of_them()
    {
        using var bob = Farms(Session("bob"), "Staging");

        Assert.Throws<TtmException>(() => Farms(Session("alice"), "Dev", "Staging"));

        using var carol = Farms(Session("carol"), "Dev");
    }

    [Fact]
    public void The_holders_note_goes_with_the_lease()
    {
        var notes = () => Directory.GetFiles(_folder.File("leases"), "*.holder");
        var lease = Farms(Session("alice"), "Dev");
        Assert.Single(notes());

        lease.Dispose();

        Assert.Empty(notes());
    }

    [Fact]
    public void A_journal_is_leased_by_one_run_at_a_time()
    {
        var journal = _folder.File("rebundle.jsonl");
        var alice = Session("alice").AcquireJournal(journal, "Invoke-TtmRebundle");

        var error = Assert.Throws<TtmException>(() => Session("bob").AcquireJournal(journal, "Invoke-TtmRebundle -Resume"));
        Assert.Equal(TtmErrorCode.FarmBusy, error.Code);
        Assert.StartsWith($"Journal {journal} is in use by another run: alice on", error.Message);

        alice.Dispose();
        Session("bob").AcquireJournal(journal, "Invoke-TtmRebundle -Resume").Dispose();
    }

    [Fact]
    public void Sandbox_leases_live_in_the_sandbox_folder_and_others_in_one_folder_per_backend_and_location()
    {
        Assert.Equal(System.IO.Path.Combine("/tmp/sandbox", "leases"), FileLeases.FolderFor("Sandbox", "/tmp/sandbox", "/tmp/sandbox"));

        var east = FileLeases.FolderFor("Aws", "us-east-1", null);
        Assert.Equal(east, FileLeases.FolderFor("Aws", "us-east-1", null));
        Assert.NotEqual(east, FileLeases.FolderFor("Aws", "eu-west-1", null));
        Assert.StartsWith("aws-", System.IO.Path.GetFileName(east));
    }
}
