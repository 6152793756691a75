using System.Globalization;

namespace ThreePL.Functions.Hosting;

/// <summary>
/// The subset of six-field NCRONTAB the standalone host understands: fixed periods such as
/// <c>*/10 * * * * *</c> (every 10 s), <c>0 */5 * * * *</c> (every 5 min) and <c>0 0 */2 * * *</c>
/// (every 2 h). Our timers are sweepers that only need "about this often"; anything richer fails loudly at
/// start rather than running at a surprising time.
/// </summary>
public static class TimerSchedule
{
    public static TimeSpan Period(string schedule)
    {
        var fields = schedule.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 6 || fields[3..].Any(f => f != "*"))
        {
            throw new FormatException($"Unsupported timer schedule '{schedule}'.");
        }
        TimeSpan[] units = [TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), TimeSpan.FromHours(1)];
        for (var i = 2; i >= 0; i--)
        {
            if (fields[i].StartsWith("*/", StringComparison.Ordinal)
                && int.TryParse(fields[i].AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out var step) && step > 0
                && fields[..i].All(f => f == "0") && fields[(i + 1)..3].All(f => f == "*"))
            {
                return units[i] * step;
            }
        }
        throw new FormatException($"Unsupported timer schedule '{schedule}'.");
    }
}
