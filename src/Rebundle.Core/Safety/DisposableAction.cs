namespace Rebundle.Safety
{
    /// <summary>Runs an action once, at the first Dispose: the end of a scope, a lease, a lock.</summary>
    public sealed class DisposableAction : IDisposable
    {
        private Action? _end;

        public DisposableAction(Action end) => _end = end;

        public void Dispose()
        {
            var end = _end;
            _end = null;
            end?.Invoke();
        }
    }
}
