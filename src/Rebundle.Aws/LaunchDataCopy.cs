using System.Collections;
using System.Reflection;
using Amazon.EC2.Model;

namespace Rebundle.Aws
{
    /// <summary>
    /// Copies a launch template version's data (as EC2 returns it) into the shape EC2 takes
    /// when creating one. The two SDK types mirror each other member by member (with
    /// "…Request" twins for nested types), so the copy goes by member name and stays complete
    /// as the SDK grows new launch settings. Settings with no request twin are left out.
    /// </summary>
    internal static class LaunchDataCopy
    {
        private const int MaxDepth = 8;

        public static RequestLaunchTemplateData ToRequest(ResponseLaunchTemplateData? source) =>
            (RequestLaunchTemplateData?)Copy(source, typeof(RequestLaunchTemplateData), 0) ?? new RequestLaunchTemplateData();

        private static object? Copy(object? source, Type target, int depth)
        {
            if (source == null || depth > MaxDepth) return null;
            var sourceType = source.GetType();
            if (target.IsAssignableFrom(sourceType)) return source; // strings, numbers, bools, EC2 enumerations

            if (target.IsGenericType && target.GetGenericTypeDefinition() == typeof(List<>) && source is IEnumerable items)
            {
                var elementType = target.GetGenericArguments()[0];
                var list = (IList)Activator.CreateInstance(target)!;
                foreach (var item in items)
                {
                    var copied = Copy(item, elementType, depth + 1);
                    if (copied != null) list.Add(copied);
                }
                return list;
            }

            if (!target.IsClass || target == typeof(string) || target.GetConstructor(Type.EmptyTypes) == null) return null;
            var result = Activator.CreateInstance(target)!;
            var anySet = false;
            foreach (var property in target.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite && p.GetIndexParameters().Length == 0))
            {
                var from = sourceType.GetProperty(property.Name, BindingFlags.Public | BindingFlags.Instance);
                if (from == null || !from.CanRead) continue;
                var value = Copy(from.GetValue(source), property.PropertyType, depth + 1);
                if (value == null) continue;
                property.SetValue(result, value);
                anySet = true;
            }
            return anySet ? result : null;
        }
    }
}
