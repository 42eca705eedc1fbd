using SysextFunctions.Rollouts;

namespace SysextFunctions.Tests.Unit.Service.Rollouts;

public class RolloutScheduleTests
{
    [Theory]
    [InlineData("5%@0h,25%@6h,50%@1d,100%@2d", 4)]
    [InlineData("100%@0h", 1)]
    [InlineData(" 1%@0m , 100%@30m ", 2)]
    [InlineData("0.5%@0h,100%@3d", 2)]
    public void TryParse_Valid_Steps(string text, int count)
    {
        Assert.True(RolloutSchedule.TryParse(text, out var schedule, out var error), error);
        Assert.Equal(count, schedule!.Steps.Count);
        Assert.Equal(1, schedule.Steps[^1].Share);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("5%@0h,50%@1d", "last step must be 100%")]
    [InlineData("50%@0h,25%@1d,100%@2d", "rise")]
    [InlineData("5%@1d,25%@1d,100%@2d", "rise")]
    [InlineData("0%@0h,100%@1d", "more than 0")]
    [InlineData("150%@0h", "at most 100")]
    [InlineData("5%@0w,100%@1d", "not <share>%@<delay>")]
    [InlineData("5@0h,100%@1d", "not <share>%@<delay>")]
    [InlineData("5%@-1h,100%@1d", "not <share>%@<delay>")]
    [InlineData("5%@0h,,100%@1d", "not <share>%@<delay>")]
    [InlineData("100%@1d\n", "not <share>%@<delay>")]
    public void TryParse_Invalid_SaysWhy(string text, string reason)
    {
        Assert.False(RolloutSchedule.TryParse(text, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1, 0.0)]
    [InlineData(0, 0.05)]
    [InlineData(5, 0.05)]
    [InlineData(6, 0.25)]
    [InlineData(23, 0.25)]
    [InlineData(24, 0.5)]
    [InlineData(47, 0.5)]
    [InlineData(48, 1.0)]
    [InlineData(1000, 1.0)]
    public void ShareAt_Hours_LastStepReached(int hours, double share)
    {
        var schedule = RolloutSchedule.Parse("5%@0h,25%@6h,50%@1d,100%@2d");
        Assert.Equal(share, schedule.ShareAt(TimeSpan.FromHours(hours)));
    }

    [Fact]
    public void ShareAt_BeforeFirstStep_Zero()
    {
        var schedule = RolloutSchedule.Parse("10%@1h,100%@1d");
        Assert.Equal(0, schedule.ShareAt(TimeSpan.FromMinutes(59)));
        Assert.Equal(0.1, schedule.ShareAt(TimeSpan.FromHours(1)));
        Assert.Equal(new RolloutStep(0.1, TimeSpan.FromHours(1)), schedule.NextAfter(TimeSpan.Zero));
        Assert.Null(schedule.NextAfter(TimeSpan.FromDays(1)));
    }
}
