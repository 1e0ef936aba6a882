# T2I Studio container image.
#   CPU (default):  docker build -t t2istudio .
#   NVIDIA GPU:     docker build --target gpu -t t2istudio:gpu .   (CUDA 13 + cuDNN 9 runtime)
# Run:              docker run -p 8080:8080 -v t2i-data:/data t2istudio
# Worker (CPU):     docker build --target worker -t t2istudio-worker .
# Worker (NVIDIA):  docker build --target worker-gpu -t t2istudio-worker:gpu .
#                   (settings by environment: Worker__Server, Worker__Key, Worker__Device, Worker__Name)

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/T2IStudio.Web -c Release -o /out/app --nologo \
 && dotnet publish src/T2IStudio.Web -c Release -r linux-x64 --self-contained -o /out/app-gpu --nologo \
 && dotnet publish src/T2IStudio.Worker -c Release -o /out/worker --nologo \
 && dotnet publish src/T2IStudio.Worker -c Release -r linux-x64 --self-contained -o /out/worker-gpu --nologo

# CPU: the ASP.NET Core runtime image. appsettings.json and wwwroot/ are published beside the app.
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /out/app .
ENV ASPNETCORE_HTTP_PORTS=8080 \
    Storage__Root=/data
RUN mkdir -p /data && chown "$APP_UID" /data
VOLUME /data
EXPOSE 8080
USER $APP_UID
ENTRYPOINT ["dotnet", "T2IStudio.Web.dll"]

# GPU: CUDA 13 with cuDNN 9, which ONNX Runtime's CUDA provider needs; the app is self-contained.
FROM nvidia/cuda:13.0.0-cudnn-runtime-ubuntu24.04 AS gpu
RUN apt-get update && apt-get install -y --no-install-recommends libicu74 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 1654 --create-home app \
 && mkdir -p /data && chown app /data
WORKDIR /app
COPY --from=build /out/app-gpu .
ENV ASPNETCORE_HTTP_PORTS=8080 \
    Storage__Root=/data
VOLUME /data
EXPOSE 8080
USER app
ENTRYPOINT ["./T2IStudio.Web"]

# A generation worker on the CPU: the .NET runtime is enough (no ASP.NET Core); the embedded model is in models/.
FROM mcr.microsoft.com/dotnet/runtime:10.0 AS worker
WORKDIR /worker
COPY --from=build /out/worker .
USER $APP_UID
ENTRYPOINT ["dotnet", "T2IStudio.Worker.dll"]

# A generation worker on an NVIDIA GPU: CUDA 13 with cuDNN 9, self-contained like the gpu image.
FROM nvidia/cuda:13.0.0-cudnn-runtime-ubuntu24.04 AS worker-gpu
RUN apt-get update && apt-get install -y --no-install-recommends libicu74 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 1654 --create-home app
WORKDIR /worker
COPY --from=build /out/worker-gpu .
USER app
ENTRYPOINT ["./T2IStudio.Worker"]

# Without --target, the CPU image is built.
FROM runtime
